# Redis 7 on ElastiCache: a primary and a replica in two zones with automatic failover,
# TLS in transit, encryption at rest, an AUTH token. The token reaches the tasks only inside
# AGENTIDP_REDIS_URL (rediss://), a Secrets Manager secret they read by reference.

resource "aws_security_group" "redis" {
  name        = "${var.name}-redis"
  description = "Redis, from the AgentIdP tasks only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "redis" {
  security_group_id            = aws_security_group.redis.id
  referenced_security_group_id = var.client_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_elasticache_subnet_group" "redis" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "random_password" "auth" {
  length  = 64
  special = false
}

resource "aws_elasticache_replication_group" "redis" {
  replication_group_id       = var.name
  description                = "AgentIdP counters, revocations, cache invalidation"
  engine                     = "redis"
  engine_version             = "7.1"
  parameter_group_name       = "default.redis7"
  node_type                  = var.node_type
  num_cache_clusters         = var.replicas + 1
  automatic_failover_enabled = true
  multi_az_enabled           = true
  subnet_group_name          = aws_elasticache_subnet_group.redis.name
  security_group_ids         = [aws_security_group.redis.id]
  port                       = 6379
  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  auth_token                 = random_password.auth.result
  auth_token_update_strategy = "ROTATE"
  snapshot_retention_limit   = 1
}

resource "aws_secretsmanager_secret" "redis_url" {
  name        = "${var.name}/AGENTIDP_REDIS_URL"
  description = "AgentIdP's Redis URL (with its AUTH token)"
}

resource "aws_secretsmanager_secret_version" "redis_url" {
  secret_id     = aws_secretsmanager_secret.redis_url.id
  secret_string = "rediss://:${random_password.auth.result}@${aws_elasticache_replication_group.redis.primary_endpoint_address}:6379/0"
}
