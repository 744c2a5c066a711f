# PostgreSQL on RDS: Multi-AZ, encrypted at rest, TLS required, private subnets only. The
# password is generated here and reaches the tasks only inside AGENTIDP_DATABASE_URL, a
# Secrets Manager secret they read by reference.

resource "aws_security_group" "db" {
  name        = "${var.name}-db"
  description = "PostgreSQL, from the AgentIdP tasks only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "db" {
  security_group_id            = aws_security_group.db.id
  referenced_security_group_id = var.client_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_db_subnet_group" "db" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_db_parameter_group" "db" {
  name   = var.name
  family = "postgres${var.engine_version}"
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
}

resource "random_password" "db" {
  length  = 40
  special = false
}

resource "aws_db_instance" "db" {
  identifier                      = var.name
  engine                          = "postgres"
  engine_version                  = var.engine_version
  instance_class                  = var.instance_class
  allocated_storage               = var.allocated_storage_gb
  max_allocated_storage           = var.allocated_storage_gb * 4
  storage_type                    = "gp3"
  db_name                         = "agentidp"
  username                        = "agentidp"
  password                        = random_password.db.result
  db_subnet_group_name            = aws_db_subnet_group.db.name
  parameter_group_name            = aws_db_parameter_group.db.name
  vpc_security_group_ids          = [aws_security_group.db.id]
  publicly_accessible             = false
  multi_az                        = true
  storage_encrypted               = true
  backup_retention_period         = var.backup_retention_days
  copy_tags_to_snapshot           = true
  deletion_protection             = true
  skip_final_snapshot             = false
  final_snapshot_identifier       = "${var.name}-final"
  auto_minor_version_upgrade      = true
  performance_insights_enabled    = true
  enabled_cloudwatch_logs_exports = ["postgresql"]
}

resource "aws_secretsmanager_secret" "database_url" {
  name        = "${var.name}/AGENTIDP_DATABASE_URL"
  description = "AgentIdP's PostgreSQL URL (with its password)"
}

resource "aws_secretsmanager_secret_version" "database_url" {
  secret_id     = aws_secretsmanager_secret.database_url.id
  secret_string = "postgres://agentidp:${random_password.db.result}@${aws_db_instance.db.address}:${aws_db_instance.db.port}/agentidp?sslmode=require"
}
