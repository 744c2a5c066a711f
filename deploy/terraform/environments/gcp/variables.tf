variable "gcp_region" {
  description = "Google Cloud region of every regional resource."
  type        = string
  default     = "us-central1"
}

variable "project" {
  description = "Google Cloud project id."
  type        = string
}

variable "name" {
  description = "Prefix of every resource's name."
  type        = string
  default     = "agentidp"
}

variable "issuer" {
  description = "AGENTIDP_ISSUER: the public https:// URL clients use; its host name gets the managed certificate and must point at the load balancer's address."
  type        = string
}

variable "image_tag" {
  description = "Tag of the image pushed to Artifact Registry (tags are immutable)."
  type        = string
}

variable "subnet_cidr" {
  description = "Address range of the private subnet."
  type        = string
  default     = "10.40.0.0/20"
}

variable "db_tier" {
  description = "Cloud SQL machine tier."
  type        = string
  default     = "db-custom-2-7680"
}

variable "redis_memory_size_gb" {
  description = "Memorystore memory."
  type        = number
  default     = 1
}

variable "google_front_end_ranges" {
  description = "Address ranges of Google's front ends and of Cloud Run's proxy, trusted as proxies besides the load balancer's own address."
  type        = list(string)
  default     = ["35.191.0.0/16", "130.211.0.0/22", "169.254.0.0/16"]
}

variable "min_replicas" {
  description = "Instances always running."
  type        = number
  default     = 2
}

variable "max_replicas" {
  description = "Upper bound of Cloud Run's autoscaling."
  type        = number
  default     = 20
}
