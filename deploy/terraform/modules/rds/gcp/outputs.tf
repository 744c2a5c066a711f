output "database_url_secret_id" {
  description = "Secret Manager secret id holding AGENTIDP_DATABASE_URL."
  value       = google_secret_manager_secret.database_url.secret_id
}

output "private_ip_address" {
  description = "The instance's private address."
  value       = google_sql_database_instance.db.private_ip_address
}
