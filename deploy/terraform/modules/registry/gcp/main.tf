# The image repository in Artifact Registry, with old untagged images cleaned up.

resource "google_artifact_registry_repository" "main" {
  project       = var.project
  location      = var.region
  repository_id = var.name
  format        = "DOCKER"
  description   = "AgentIdP images"
  docker_config {
    immutable_tags = true
  }
  cleanup_policies {
    id     = "delete-untagged"
    action = "DELETE"
    condition {
      tag_state  = "UNTAGGED"
      older_than = "${var.untagged_expiry_days * 86400}s"
    }
  }
}
