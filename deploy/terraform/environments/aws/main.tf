# AgentIdP on AWS: a root module. Apply it from this directory (see deploy/README.md):
#   terraform init && terraform apply -var issuer=https://idp.example.com -var certificate_arn=…
# It wires the same modules as environments/gcp, each in its AWS form.

provider "aws" {
  region = var.aws_region
  default_tags {
    tags = { Application = "agentidp", ManagedBy = "terraform" }
  }
}

locals {
  name = var.name
}

module "network" {
  source   = "../../modules/network/aws"
  name     = local.name
  cidr     = var.vpc_cidr
  az_count = var.az_count
}

module "registry" {
  source = "../../modules/registry/aws"
  name   = local.name
}

module "lb" {
  source                = "../../modules/lb/aws"
  name                  = local.name
  vpc_id                = module.network.vpc_id
  public_subnet_ids     = module.network.public_subnet_ids
  app_security_group_id = module.network.app_security_group_id
  certificate_arn       = var.certificate_arn
  ingress_cidrs         = var.ingress_cidrs
}

module "rds" {
  source                   = "../../modules/rds/aws"
  name                     = local.name
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.private_subnet_ids
  client_security_group_id = module.network.app_security_group_id
  instance_class           = var.db_instance_class
}

module "redis" {
  source                   = "../../modules/redis/aws"
  name                     = local.name
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.private_subnet_ids
  client_security_group_id = module.network.app_security_group_id
  node_type                = var.redis_node_type
}

module "agentidp" {
  source                = "../../modules/agentidp/aws"
  name                  = local.name
  region                = var.aws_region
  image                 = "${module.registry.repository_url}:${var.image_tag}"
  issuer                = var.issuer
  private_subnet_ids    = module.network.private_subnet_ids
  app_security_group_id = module.network.app_security_group_id
  target_group_arn      = module.lb.target_group_arn
  # The load balancer's nodes take their addresses from the public subnets: only they may
  # speak for a client in X-Forwarded-For.
  trusted_proxies              = module.network.public_subnet_cidrs
  request_count_resource_label = "${module.lb.arn_suffix}/${module.lb.target_group_arn_suffix}"
  database_url_secret_arn      = module.rds.database_url_secret_arn
  redis_url_secret_arn         = module.redis.redis_url_secret_arn
  min_replicas                 = var.min_replicas
  max_replicas                 = var.max_replicas
  # ECS refuses a target group that no listener uses yet.
  depends_on = [module.lb]
}
