variable "name" {
  description = "Prefix of every resource's name."
  type        = string
}

variable "cidr" {
  description = "The VPC's address range; public subnets take its first /4 sixteenths, private ones from the ninth."
  type        = string
  default     = "10.40.0.0/16"
}

variable "az_count" {
  description = "Availability zones to spread over (2 or 3)."
  type        = number
  default     = 3
  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count must be 2 or 3."
  }
}

variable "flow_log_retention_days" {
  description = "Days the VPC flow logs (rejected traffic) are kept."
  type        = number
  default     = 90
}
