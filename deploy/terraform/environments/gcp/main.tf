# AgentIdP on Google Cloud: a root module. Apply it from this directory (see deploy/README.md):
#   terraform init && terraform apply -var project=… -var issuer=https://idp.example.com
# It wires the same modules as environments/aws, each in its Google Cloud form.

provider "google" {
  project = var.project
  region  = var.gcp_region
}

locals {
  name   = var.name
  domain = regex("^https://([^/:]+)", var.issuer)[0]
  apis = [
    "artifactregistry.googleapis.com",
    "compute.googleapis.com",
    "redis.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
  ]
}

resource "google_project_service" "apis" {
  for_each           = toset(local.apis)
  project            = var.project
  service            = each.value
  disable_on_destroy = false
}

module "network" {
  source      = "../../modules/network/gcp"
  project     = var.project
  region      = var.gcp_region
  name        = local.name
  subnet_cidr = var.subnet_cidr
  depends_on  = [google_project_service.apis]
}

module "registry" {
  source     = "../../modules/registry/gcp"
  project    = var.project
  region     = var.gcp_region
  name       = local.name
  depends_on = [google_project_service.apis]
}

module "rds" {
  source                      = "../../modules/rds/gcp"
  project                     = var.project
  region                      = var.gcp_region
  name                        = local.name
  network_id                  = module.network.network_id
  private_services_connection = module.network.private_services_connection
  tier                        = var.db_tier
}

module "redis" {
  source                      = "../../modules/redis/gcp"
  project                     = var.project
  region                      = var.gcp_region
  name                        = local.name
  network_id                  = module.network.network_id
  private_services_connection = module.network.private_services_connection
  memory_size_gb              = var.redis_memory_size_gb
}

# The load balancer comes before the service: its serverless NEG names the service (which may
# not exist yet), and the service trusts the load balancer's address.
module "lb" {
  source            = "../../modules/lb/gcp"
  project           = var.project
  region            = var.gcp_region
  name              = local.name
  domain            = local.domain
  cloud_run_service = local.name
  depends_on        = [google_project_service.apis]
}

module "agentidp" {
  source        = "../../modules/agentidp/gcp"
  project       = var.project
  region        = var.gcp_region
  name          = local.name
  image         = "${module.registry.repository_url}:${var.image_tag}"
  issuer        = var.issuer
  network_id    = module.network.network_id
  subnetwork_id = module.network.subnetwork_id
  # The external load balancer appends "<client>, <its own address>" to X-Forwarded-For, and
  # Google's front ends (35.191.0.0/16, 130.211.0.0/22) and Cloud Run's own proxy
  # (link-local) carry the request on: the server takes the right-most address that is none
  # of these.
  trusted_proxies        = concat(["${module.lb.ip_address}/32"], var.google_front_end_ranges)
  database_url_secret_id = module.rds.database_url_secret_id
  redis_url_secret_id    = module.redis.redis_url_secret_id
  min_replicas           = var.min_replicas
  max_replicas           = var.max_replicas
}
