# AgentIdP on AWS: ECS Fargate behind an ALB, RDS PostgreSQL, ElastiCache Redis, secrets in
# Secrets Manager. A starting point: review sizes, networking and TLS before production.
terraform {
  required_version = ">= 1.6"
  required_providers {
    aws    = { source = "hashicorp/aws", version = "~> 5.0" }
    random = { source = "hashicorp/random", version = "~> 3.6" }
  }
}

provider "aws" { region = var.region }

variable "region" { default = "eu-west-1" }
variable "vpc_id" { type = string }
variable "private_subnet_ids" { type = list(string) }
variable "public_subnet_ids" { type = list(string) }
variable "issuer" { type = string } # e.g. https://idp.example.com
variable "certificate_arn" { type = string }
variable "image" { default = "ghcr.io/agentidp/agentidp:latest" }
variable "replicas" { default = 3 }

resource "random_password" "db" {
  length  = 32
  special = false
}
resource "random_id" "master_key" { byte_length = 32 }
resource "random_id" "pepper" { byte_length = 32 }

resource "aws_security_group" "app" {
  name   = "agentidp-app"
  vpc_id = var.vpc_id
  ingress {
    from_port       = 8080
    to_port         = 8080
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "alb" {
  name   = "agentidp-alb"
  vpc_id = var.vpc_id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "data" {
  name   = "agentidp-data"
  vpc_id = var.vpc_id
  ingress {
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }
  ingress {
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }
}

resource "aws_db_subnet_group" "db" {
  name       = "agentidp"
  subnet_ids = var.private_subnet_ids
}

resource "aws_db_instance" "db" {
  identifier              = "agentidp"
  engine                  = "postgres"
  engine_version          = "16"
  instance_class          = "db.t4g.medium"
  allocated_storage       = 50
  db_name                 = "agentidp"
  username                = "agentidp"
  password                = random_password.db.result
  db_subnet_group_name    = aws_db_subnet_group.db.name
  vpc_security_group_ids  = [aws_security_group.data.id]
  storage_encrypted       = true
  multi_az                = true
  backup_retention_period = 14
  deletion_protection     = true
  skip_final_snapshot     = false
  final_snapshot_identifier = "agentidp-final"
}

resource "aws_elasticache_subnet_group" "redis" {
  name       = "agentidp"
  subnet_ids = var.private_subnet_ids
}

resource "aws_elasticache_replication_group" "redis" {
  replication_group_id       = "agentidp"
  description                = "AgentIdP counters, revocations, cache invalidation"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = "cache.t4g.small"
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  subnet_group_name          = aws_elasticache_subnet_group.redis.name
  security_group_ids         = [aws_security_group.data.id]
  transit_encryption_enabled = true
}

resource "aws_secretsmanager_secret" "env" { name = "agentidp/env" }
resource "aws_secretsmanager_secret_version" "env" {
  secret_id = aws_secretsmanager_secret.env.id
  secret_string = jsonencode({
    AGENTIDP_DATABASE_URL  = "postgres://agentidp:${random_password.db.result}@${aws_db_instance.db.address}:5432/agentidp?sslmode=require"
    AGENTIDP_REDIS_URL     = "rediss://${aws_elasticache_replication_group.redis.primary_endpoint_address}:6379/0"
    AGENTIDP_MASTER_KEY    = random_id.master_key.b64_std
    AGENTIDP_SECRET_PEPPER = random_id.pepper.b64_std
  })
}

resource "aws_iam_role" "exec" {
  name = "agentidp-exec"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ecs-tasks.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}
resource "aws_iam_role_policy_attachment" "exec" {
  role       = aws_iam_role.exec.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}
resource "aws_iam_role_policy" "secrets" {
  role = aws_iam_role.exec.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["secretsmanager:GetSecretValue"], Resource = [aws_secretsmanager_secret.env.arn] }]
  })
}

resource "aws_ecs_cluster" "main" { name = "agentidp" }

resource "aws_ecs_task_definition" "app" {
  family                   = "agentidp"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 1024
  memory                   = 2048
  execution_role_arn       = aws_iam_role.exec.arn
  container_definitions = jsonencode([{
    name         = "agentidp"
    image        = var.image
    command      = ["serve"]
    portMappings = [{ containerPort = 8080 }]
    environment = [
      { name = "AGENTIDP_ISSUER", value = var.issuer },
      { name = "AGENTIDP_TRUSTED_PROXIES", value = "10.0.0.0/8" },
    ]
    secrets = [for k in ["AGENTIDP_DATABASE_URL", "AGENTIDP_REDIS_URL", "AGENTIDP_MASTER_KEY", "AGENTIDP_SECRET_PEPPER"] :
      { name = k, valueFrom = "${aws_secretsmanager_secret.env.arn}:${k}::" }]
    stopTimeout = 30
  }])
}

resource "aws_lb" "main" {
  name               = "agentidp"
  load_balancer_type = "application"
  subnets            = var.public_subnet_ids
  security_groups    = [aws_security_group.alb.id]
}

resource "aws_lb_target_group" "app" {
  name        = "agentidp"
  port        = 8080
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id
  health_check { path = "/readyz" }
  deregistration_delay = 20
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = var.certificate_arn
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

resource "aws_ecs_service" "app" {
  name            = "agentidp"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.app.arn
  desired_count   = var.replicas
  launch_type     = "FARGATE"
  network_configuration {
    subnets         = var.private_subnet_ids
    security_groups = [aws_security_group.app.id]
  }
  load_balancer {
    target_group_arn = aws_lb_target_group.app.arn
    container_name   = "agentidp"
    container_port   = 8080
  }
}

output "url" { value = "https://${aws_lb.main.dns_name}" }
