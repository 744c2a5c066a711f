# The AgentIdP service on Cloud Run: reachable only through the load balancer (ingress
# "internal and load balancing"), outbound to Cloud SQL and Memorystore over direct VPC
# egress, every secret read by reference from Secret Manager when an instance starts.

locals {
  # Generated once and kept: every replica must share them, and changing either on a running
  # deployment locks out the signing keys (master key) or every client secret (pepper).
  generated = {
    AGENTIDP_MASTER_KEY    = random_id.master_key.b64_std
    AGENTIDP_SECRET_PEPPER = random_id.pepper.b64_std
    AGENTIDP_METRICS_TOKEN = random_id.metrics_token.b64_url
  }
  secret_ids = merge(
    { for k, s in google_secret_manager_secret.generated : k => s.secret_id },
    {
      AGENTIDP_DATABASE_URL = var.database_url_secret_id
      AGENTIDP_REDIS_URL    = var.redis_url_secret_id
    },
  )
}

resource "random_id" "master_key" {
  byte_length = 32
  lifecycle {
    prevent_destroy = true
  }
}

resource "random_id" "pepper" {
  byte_length = 32
  lifecycle {
    prevent_destroy = true
  }
}

resource "random_id" "metrics_token" {
  byte_length = 32
}

resource "google_secret_manager_secret" "generated" {
  for_each  = toset(keys(local.generated))
  project   = var.project
  secret_id = "${var.name}-${lower(replace(trimprefix(each.key, "AGENTIDP_"), "_", "-"))}"
  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "generated" {
  for_each    = toset(keys(local.generated))
  secret      = google_secret_manager_secret.generated[each.key].id
  secret_data = local.generated[each.key]
}

resource "google_service_account" "app" {
  project      = var.project
  account_id   = var.name
  display_name = "AgentIdP service"
}

# The service's identity may read exactly its five secrets, nothing else.
resource "google_secret_manager_secret_iam_member" "app" {
  for_each  = local.secret_ids
  project   = var.project
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.app.email}"
}

resource "google_cloud_run_v2_service" "app" {
  project             = var.project
  name                = var.name
  location            = var.region
  ingress             = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  deletion_protection = true
  template {
    service_account                  = google_service_account.app.email
    timeout                          = "60s"
    max_instance_request_concurrency = var.concurrency
    scaling {
      min_instance_count = var.min_replicas
      max_instance_count = var.max_replicas
    }
    vpc_access {
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = var.network_id
        subnetwork = var.subnetwork_id
      }
    }
    containers {
      image = var.image
      args  = ["serve"]
      ports {
        container_port = var.container_port
      }
      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        cpu_idle = false
      }
      dynamic "env" {
        for_each = {
          AGENTIDP_ISSUER          = var.issuer
          AGENTIDP_TRUSTED_PROXIES = join(",", var.trusted_proxies)
          AGENTIDP_LOG_FORMAT      = "json"
        }
        content {
          name  = env.key
          value = env.value
        }
      }
      dynamic "env" {
        for_each = local.secret_ids
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = env.value
              version = "latest"
            }
          }
        }
      }
      startup_probe {
        initial_delay_seconds = 2
        period_seconds        = 3
        failure_threshold     = 20
        http_get {
          path = "/readyz"
        }
      }
      liveness_probe {
        period_seconds    = 10
        failure_threshold = 3
        http_get {
          path = "/healthz"
        }
      }
    }
  }
  depends_on = [google_secret_manager_secret_iam_member.app, google_secret_manager_secret_version.generated]
}

# The invoker binding. The serverless NEG forwards requests without a Google identity, so the
# load balancer's traffic needs allUsers as invoker; the service's ingress setting still
# refuses every request that does not come through the load balancer.
resource "google_cloud_run_v2_service_iam_member" "invoker" {
  project  = var.project
  location = google_cloud_run_v2_service.app.location
  name     = google_cloud_run_v2_service.app.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
