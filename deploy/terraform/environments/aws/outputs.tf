output "load_balancer_dns_name" {
  description = "Point the issuer's host name at this (CNAME, or a Route 53 alias with load_balancer_zone_id)."
  value       = module.lb.dns_name
}

output "load_balancer_zone_id" {
  description = "Hosted zone of the load balancer, for a Route 53 alias record."
  value       = module.lb.zone_id
}

output "repository_url" {
  description = "Push the image here: docker push <repository_url>:<image_tag>."
  value       = module.registry.repository_url
}

output "log_group" {
  description = "CloudWatch log group of the service."
  value       = module.agentidp.log_group
}
