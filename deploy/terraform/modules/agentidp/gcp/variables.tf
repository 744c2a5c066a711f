variable "project" {
  description = "Google Cloud project id."
  type        = string
}

variable "region" {
  description = "Cloud Run region."
  type        = string
}

variable "name" {
  description = "Prefix of every resource's name."
  type        = string
}

variable "image" {
  description = "Container image with its tag (e.g. <region>-docker.pkg.dev/<project>/agentidp/agentidp:v1.2.3)."
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
  description = "AGENTIDP_TRUSTED_PROXIES: the load balancer's and Google front ends' addresses, whose X-Forwarded-For is believed."
  type        = list(string)
}

variable "network_id" {
  description = "VPC of the direct VPC egress (Cloud SQL and Memorystore are reached through it)."
  type        = string
}

variable "subnetwork_id" {
  description = "Subnet of the direct VPC egress."
  type        = string
}

variable "database_url_secret_id" {
  description = "Secret Manager secret holding AGENTIDP_DATABASE_URL."
  type        = string
}

variable "redis_url_secret_id" {
  description = "Secret Manager secret holding AGENTIDP_REDIS_URL."
  type        = string
}

variable "container_port" {
  description = "Port the server listens on (Cloud Run passes it as PORT; AGENTIDP_HTTP_ADDR defaults to :8080)."
  type        = number
  default     = 8080
}

variable "cpu" {
  description = "CPU limit of an instance."
  type        = string
  default     = "1"
}

variable "memory" {
  description = "Memory limit of an instance."
  type        = string
  default     = "1Gi"
}

variable "concurrency" {
  description = "Requests one instance serves at once."
  type        = number
  default     = 200
}

variable "min_replicas" {
  description = "Instances always running (at least 2)."
  type        = number
  default     = 2
  validation {
    condition     = var.min_replicas >= 2
    error_message = "Run at least two instances."
  }
}

variable "max_replicas" {
  description = "Upper bound of Cloud Run's autoscaling."
  type        = number
  default     = 20
}
