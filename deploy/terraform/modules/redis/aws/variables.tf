variable "name" {
  description = "Prefix of every resource's name."
  type        = string
}

variable "vpc_id" {
  description = "The VPC Redis lives in."
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

variable "node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "replicas" {
  description = "Read replicas besides the primary (at least 1 for automatic failover)."
  type        = number
  default     = 1
  validation {
    condition     = var.replicas >= 1
    error_message = "Automatic failover needs at least one replica."
  }
}
