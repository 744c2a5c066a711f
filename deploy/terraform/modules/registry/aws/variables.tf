variable "name" {
  description = "Repository name."
  type        = string
}

variable "untagged_expiry_days" {
  description = "Days after which an untagged image is deleted."
  type        = number
  default     = 14
}
