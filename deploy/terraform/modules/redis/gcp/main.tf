# Redis 7 on Memorystore: Standard tier (a replica in another zone, automatic failover),
# reached over private service access, AUTH on. The AUTH string reaches Cloud Run only inside
# AGENTIDP_REDIS_URL, a Secret Manager secret it reads by reference.
#
# In-transit encryption is off here: Memorystore's TLS certificates come from a per-instance
# Google CA that is not in the system roots, and the server has no setting yet for another
# CA (AGENTIDP_REDIS_URL with rediss:// verifies against the system roots). The traffic stays
# on the VPC's private service access peering.

resource "google_redis_instance" "redis" {
  project                 = var.project
  name                    = var.name
  region                  = var.region
  tier                    = "STANDARD_HA"
  memory_size_gb          = var.memory_size_gb
  redis_version           = "REDIS_7_2"
  authorized_network      = var.network_id
  connect_mode            = "PRIVATE_SERVICE_ACCESS"
  auth_enabled            = true
  transit_encryption_mode = "DISABLED"
  depends_on              = [var.private_services_connection]
}

resource "google_secret_manager_secret" "redis_url" {
  project   = var.project
  secret_id = "${var.name}-redis-url"
  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "redis_url" {
  secret      = google_secret_manager_secret.redis_url.id
  secret_data = "redis://:${google_redis_instance.redis.auth_string}@${google_redis_instance.redis.host}:${google_redis_instance.redis.port}/0"
}
