output "repository_url" {
  description = "The image's repository (docker push <url>:<tag>)."
  value       = "${var.region}-docker.pkg.dev/${var.project}/${google_artifact_registry_repository.main.repository_id}/agentidp"
}
