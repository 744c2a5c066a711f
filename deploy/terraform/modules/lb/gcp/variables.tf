variable "project" {
  description = "Google Cloud project id."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Run service (and of its serverless NEG)."
  type        = string
}

variable "name" {
  description = "Prefix of every resource's name."
  type        = string
}

variable "domain" {
  description = "The issuer's host name; the managed certificate is issued for it once its DNS points at the load balancer's address."
  type        = string
}

variable "cloud_run_service" {
  description = "Name of the Cloud Run service behind the serverless NEG."
  type        = string
}

variable "security_policy" {
  description = "Optional Cloud Armor policy (id) on the backend service."
  type        = string
  default     = null
}
