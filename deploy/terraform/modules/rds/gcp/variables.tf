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
  description = "The VPC whose private service access range gives the instance its address."
  type        = string
}

variable "private_services_connection" {
  description = "The private service access peering, waited for before the instance is created."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL major version (14 or later)."
  type        = string
  default     = "16"
}

variable "tier" {
  description = "Cloud SQL machine tier."
  type        = string
  default     = "db-custom-2-7680"
}

variable "backup_retention_days" {
  description = "Daily backups kept."
  type        = number
  default     = 14
}
