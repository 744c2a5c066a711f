output "redis_url_secret_id" {
  description = "Secret Manager secret id holding AGENTIDP_REDIS_URL."
  value       = google_secret_manager_secret.redis_url.secret_id
}
