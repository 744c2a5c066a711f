variable "aws_region" {
  description = "AWS region of every resource."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Prefix of every resource's name."
  type        = string
  default     = "agentidp"
}

variable "issuer" {
  description = "AGENTIDP_ISSUER: the public https:// URL clients use (its host name points at the load balancer)."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for the issuer's host name, on the HTTPS listener."
  type        = string
}

variable "image_tag" {
  description = "Tag of the image pushed to the registry (tags are immutable)."
  type        = string
}

variable "vpc_cidr" {
  description = "Address range of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "az_count" {
  description = "Availability zones to spread over."
  type        = number
  default     = 3
}

variable "ingress_cidrs" {
  description = "Address ranges allowed to reach the load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "min_replicas" {
  description = "Tasks always running."
  type        = number
  default     = 3
}

variable "max_replicas" {
  description = "Upper bound of the autoscaler."
  type        = number
  default     = 12
}
