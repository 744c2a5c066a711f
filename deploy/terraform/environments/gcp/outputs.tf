output "load_balancer_ip" {
  description = "Point the issuer's host name at this address (A record); the certificate is issued once it resolves."
  value       = module.lb.ip_address
}

output "repository_url" {
  description = "Push the image here: docker push <repository_url>:<image_tag>."
  value       = module.registry.repository_url
}

output "service_name" {
  description = "The Cloud Run service."
  value       = module.agentidp.service_name
}
