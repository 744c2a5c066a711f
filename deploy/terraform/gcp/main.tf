# AgentIdP on Google Cloud: Cloud Run, Cloud SQL for PostgreSQL, Memorystore for Redis,
# secrets in Secret Manager. A starting point: review sizes, networking and IAM before
# production.
terraform {
  required_version = ">= 1.6"
  required_providers {
    google = { source = "hashicorp/google", version = "~> 6.0" }
    random = { source = "hashicorp/random", version = "~> 3.6" }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}

variable "project" { type = string }
variable "region" { default = "europe-west1" }
variable "network" { type = string }         # VPC self link
variable "vpc_connector" { type = string }   # Serverless VPC Access connector id
variable "issuer" { type = string }
variable "image" { default = "ghcr.io/agentidp/agentidp:latest" }

resource "random_password" "db" {
  length  = 32
  special = false
}
resource "random_id" "master_key" { byte_length = 32 }
resource "random_id" "pepper" { byte_length = 32 }

resource "google_sql_database_instance" "db" {
  name             = "agentidp"
  database_version = "POSTGRES_16"
  settings {
    tier              = "db-custom-2-7680"
    availability_type = "REGIONAL"
    ip_configuration {
      ipv4_enabled    = false
      private_network = var.network
    }
    backup_configuration { enabled = true }
  }
  deletion_protection = true
}
resource "google_sql_database" "db" {
  name     = "agentidp"
  instance = google_sql_database_instance.db.name
}
resource "google_sql_user" "app" {
  name     = "agentidp"
  instance = google_sql_database_instance.db.name
  password = random_password.db.result
}

resource "google_redis_instance" "redis" {
  name               = "agentidp"
  tier               = "STANDARD_HA"
  memory_size_gb     = 1
  redis_version      = "REDIS_7_2"
  authorized_network = var.network
}

locals {
  secrets = {
    AGENTIDP_DATABASE_URL  = "postgres://agentidp:${random_password.db.result}@${google_sql_database_instance.db.private_ip_address}:5432/agentidp?sslmode=require"
    AGENTIDP_REDIS_URL     = "redis://${google_redis_instance.redis.host}:${google_redis_instance.redis.port}/0"
    AGENTIDP_MASTER_KEY    = random_id.master_key.b64_std
    AGENTIDP_SECRET_PEPPER = random_id.pepper.b64_std
  }
}

resource "google_secret_manager_secret" "env" {
  for_each  = local.secrets
  secret_id = lower(replace(each.key, "_", "-"))
  replication {
    auto {}
  }
}
resource "google_secret_manager_secret_version" "env" {
  for_each    = local.secrets
  secret      = google_secret_manager_secret.env[each.key].id
  secret_data = each.value
}

resource "google_service_account" "app" { account_id = "agentidp" }
resource "google_secret_manager_secret_iam_member" "app" {
  for_each  = local.secrets
  secret_id = google_secret_manager_secret.env[each.key].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.app.email}"
}

resource "google_cloud_run_v2_service" "app" {
  name     = "agentidp"
  location = var.region
  template {
    service_account = google_service_account.app.email
    scaling {
      min_instance_count = 2
      max_instance_count = 20
    }
    vpc_access {
      connector = var.vpc_connector
      egress    = "PRIVATE_RANGES_ONLY"
    }
    containers {
      image = var.image
      args  = ["serve"]
      ports { container_port = 8080 }
      env {
        name  = "AGENTIDP_ISSUER"
        value = var.issuer
      }
      dynamic "env" {
        for_each = local.secrets
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.env[env.key].secret_id
              version = "latest"
            }
          }
        }
      }
      startup_probe {
        http_get { path = "/readyz" }
      }
      liveness_probe {
        http_get { path = "/healthz" }
      }
    }
  }
}

output "url" { value = google_cloud_run_v2_service.app.uri }
