variable "project" {
  description = "Google Cloud project id."
  type        = string
}

variable "region" {
  description = "Region of the subnet, the router and Cloud NAT."
  type        = string
}

variable "name" {
  description = "Prefix of every resource's name."
  type        = string
}

variable "subnet_cidr" {
  description = "Address range of the private subnet (Cloud Run's direct VPC egress takes addresses from it)."
  type        = string
  default     = "10.40.0.0/20"
}

variable "services_prefix_length" {
  description = "Size of the range reserved for private service access (Cloud SQL, Memorystore)."
  type        = number
  default     = 20
}
