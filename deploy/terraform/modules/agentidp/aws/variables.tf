variable "name" {
  description = "Prefix of every resource's name."
  type        = string
}

variable "region" {
  description = "AWS region (for the log driver)."
  type        = string
}

variable "image" {
  description = "Container image, repository and tag (e.g. <account>.dkr.ecr.<region>.amazonaws.com/agentidp:v1.2.3)."
  type        = string
}

variable "issuer" {
  description = "AGENTIDP_ISSUER: the public https:// base URL, without a trailing slash."
  type        = string
  validation {
    condition     = can(regex("^https://[^/]+(/.*[^/])?$", var.issuer))
    error_message = "issuer must be an https:// URL without a trailing slash."
  }
}

variable "trusted_proxies" {
  description = "AGENTIDP_TRUSTED_PROXIES: the load balancer's address ranges, whose X-Forwarded-For is believed."
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Private subnets the tasks run in."
  type        = list(string)
}

variable "app_security_group_id" {
  description = "Security group of the tasks."
  type        = string
}

variable "target_group_arn" {
  description = "Load balancer target group the tasks register in."
  type        = string
}

variable "request_count_resource_label" {
  description = "<load balancer ARN suffix>/<target group ARN suffix>, for request-count scaling."
  type        = string
}

variable "database_url_secret_arn" {
  description = "Secrets Manager secret holding AGENTIDP_DATABASE_URL."
  type        = string
}

variable "redis_url_secret_arn" {
  description = "Secrets Manager secret holding AGENTIDP_REDIS_URL."
  type        = string
}

variable "container_port" {
  description = "Port the server listens on (AGENTIDP_HTTP_ADDR)."
  type        = number
  default     = 8080
}

variable "cpu" {
  description = "Task CPU units (1024 = one vCPU)."
  type        = number
  default     = 1024
}

variable "memory" {
  description = "Task memory in MiB."
  type        = number
  default     = 2048
}

variable "min_replicas" {
  description = "Tasks always running (at least 2, in different zones)."
  type        = number
  default     = 3
  validation {
    condition     = var.min_replicas >= 2
    error_message = "Run at least two tasks."
  }
}

variable "max_replicas" {
  description = "Upper bound of the autoscaler."
  type        = number
  default     = 12
}

variable "cpu_target_percent" {
  description = "Average CPU the autoscaler aims for."
  type        = number
  default     = 60
}

variable "requests_per_target" {
  description = "Load balancer requests per task per minute the autoscaler aims for."
  type        = number
  default     = 30000
}

variable "log_retention_days" {
  description = "Days the service's logs are kept in CloudWatch."
  type        = number
  default     = 30
}
