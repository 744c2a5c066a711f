variable "project" {
  description = "Google Cloud project id."
  type        = string
}

variable "region" {
  description = "Region of the instance."
  type        = string
}

variable "name" {
  description = "Prefix of every resource's name."
  type        = string
}

variable "network_id" {
  description = "The VPC allowed to reach the instance."
  type        = string
}

variable "private_services_connection" {
  description = "The private service access peering, waited for before the instance is created."
  type        = string
}

variable "memory_size_gb" {
  description = "Memory of the instance."
  type        = number
  default     = 1
}
