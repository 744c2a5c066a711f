# PostgreSQL on Cloud SQL: regional (a standby in another zone), private address only,
# TLS required, point-in-time recovery. The password is generated here and reaches Cloud Run
# only inside AGENTIDP_DATABASE_URL, a Secret Manager secret it reads by reference.

resource "google_sql_database_instance" "db" {
  project             = var.project
  name                = var.name
  region              = var.region
  database_version    = "POSTGRES_${var.engine_version}"
  deletion_protection = true
  settings {
    tier              = var.tier
    availability_type = "REGIONAL"
    disk_autoresize   = true
    ip_configuration {
      ipv4_enabled                                  = false
      private_network                               = var.network_id
      ssl_mode                                      = "ENCRYPTED_ONLY"
      enable_private_path_for_google_cloud_services = false
    }
    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
      backup_retention_settings {
        retained_backups = var.backup_retention_days
      }
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "1000"
    }
    insights_config {
      query_insights_enabled = true
    }
  }
  depends_on = [var.private_services_connection]
}

resource "google_sql_database" "db" {
  project  = var.project
  name     = "agentidp"
  instance = google_sql_database_instance.db.name
}

resource "random_password" "db" {
  length  = 40
  special = false
}

resource "google_sql_user" "app" {
  project  = var.project
  name     = "agentidp"
  instance = google_sql_database_instance.db.name
  password = random_password.db.result
}

resource "google_secret_manager_secret" "database_url" {
  project   = var.project
  secret_id = "${var.name}-database-url"
  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "database_url" {
  secret      = google_secret_manager_secret.database_url.id
  secret_data = "postgres://agentidp:${random_password.db.result}@${google_sql_database_instance.db.private_ip_address}:5432/agentidp?sslmode=require"
}
