variable "name" {
  description = "Prefix of every resource's name."
  type        = string
}

variable "vpc_id" {
  description = "The VPC of the load balancer and its targets."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets the load balancer's nodes live in."
  type        = list(string)
}

variable "app_security_group_id" {
  description = "Security group of the AgentIdP tasks; the load balancer is let in on the container port."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for the HTTPS listener (the issuer's host name)."
  type        = string
}

variable "container_port" {
  description = "Port the server listens on in the task (AGENTIDP_HTTP_ADDR)."
  type        = number
  default     = 8080
}

variable "ingress_cidrs" {
  description = "Address ranges allowed to reach ports 80 and 443."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}
