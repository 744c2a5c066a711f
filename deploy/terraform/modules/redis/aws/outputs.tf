output "redis_url_secret_arn" {
  description = "ARN of the Secrets Manager secret holding AGENTIDP_REDIS_URL."
  value       = aws_secretsmanager_secret.redis_url.arn
}
