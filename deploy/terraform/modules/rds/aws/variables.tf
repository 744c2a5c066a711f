variable "name" {
  description = "Prefix of every resource's name."
  type        = string
}

variable "vpc_id" {
  description = "The VPC the database lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets, one per availability zone."
  type        = list(string)
}

variable "client_security_group_id" {
  description = "Security group of the AgentIdP tasks, the only ones let in."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL major version (14 or later)."
  type        = string
  default     = "16"
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "allocated_storage_gb" {
  description = "Initial storage; autoscaling may grow it to four times this."
  type        = number
  default     = 50
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 14
}
