output "dns_name" {
  description = "The load balancer's DNS name (point the issuer's host name at it)."
  value       = aws_lb.main.dns_name
}

output "zone_id" {
  description = "The load balancer's hosted zone, for a Route 53 alias record."
  value       = aws_lb.main.zone_id
}

output "arn_suffix" {
  description = "The load balancer's ARN suffix (CloudWatch metrics, request-count scaling)."
  value       = aws_lb.main.arn_suffix
}

output "target_group_arn" {
  description = "Target group the ECS service registers its tasks in."
  value       = aws_lb_target_group.app.arn
}

output "target_group_arn_suffix" {
  description = "The target group's ARN suffix (request-count scaling)."
  value       = aws_lb_target_group.app.arn_suffix
}
