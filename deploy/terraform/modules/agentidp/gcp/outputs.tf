output "service_name" {
  description = "The Cloud Run service (the load balancer's serverless NEG points at it)."
  value       = google_cloud_run_v2_service.app.name
}

output "service_account_email" {
  description = "The service's identity."
  value       = google_service_account.app.email
}

output "metrics_token_secret_id" {
  description = "Secret Manager secret holding AGENTIDP_METRICS_TOKEN."
  value       = google_secret_manager_secret.generated["AGENTIDP_METRICS_TOKEN"].secret_id
}
