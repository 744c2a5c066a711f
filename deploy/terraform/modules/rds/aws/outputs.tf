output "database_url_secret_arn" {
  description = "ARN of the Secrets Manager secret holding AGENTIDP_DATABASE_URL."
  value       = aws_secretsmanager_secret.database_url.arn
}

output "address" {
  description = "The database's private DNS name."
  value       = aws_db_instance.db.address
}
