variable "project" {
  description = "Google Cloud project id."
  type        = string
}

variable "region" {
  description = "Region of the repository (the same as Cloud Run's)."
  type        = string
}

variable "name" {
  description = "Repository id."
  type        = string
}

variable "untagged_expiry_days" {
  description = "Days after which an untagged image is deleted."
  type        = number
  default     = 14
}
