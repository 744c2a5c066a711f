output "cluster_name" {
  description = "The ECS cluster."
  value       = aws_ecs_cluster.main.name
}

output "service_name" {
  description = "The ECS service."
  value       = aws_ecs_service.app.name
}

output "log_group" {
  description = "CloudWatch log group of the tasks."
  value       = aws_cloudwatch_log_group.app.name
}

output "metrics_token_secret_arn" {
  description = "Secrets Manager secret holding AGENTIDP_METRICS_TOKEN, for the Prometheus scrape configuration."
  value       = aws_secretsmanager_secret.generated["AGENTIDP_METRICS_TOKEN"].arn
}
