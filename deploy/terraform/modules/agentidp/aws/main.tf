# The AgentIdP service on ECS Fargate: tasks in the private subnets behind the load balancer,
# logs in CloudWatch, CPU and request-count autoscaling, every secret read by reference
# from Secrets Manager when a task starts (the task definition holds ARNs, never values).

locals {
  # Generated once and kept: every replica must share them, and changing either on a running
  # deployment locks out the signing keys (master key) or every client secret (pepper).
  generated = {
    AGENTIDP_MASTER_KEY    = random_id.master_key.b64_std
    AGENTIDP_SECRET_PEPPER = random_id.pepper.b64_std
    AGENTIDP_METRICS_TOKEN = random_id.metrics_token.b64_url
  }
  secret_arns = merge(
    { for k, s in aws_secretsmanager_secret.generated : k => s.arn },
    {
      AGENTIDP_DATABASE_URL = var.database_url_secret_arn
      AGENTIDP_REDIS_URL    = var.redis_url_secret_arn
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

resource "aws_secretsmanager_secret" "generated" {
  for_each    = toset(keys(local.generated))
  name        = "${var.name}/${each.key}"
  description = "AgentIdP ${each.key}"
}

resource "aws_secretsmanager_secret_version" "generated" {
  for_each      = toset(keys(local.generated))
  secret_id     = aws_secretsmanager_secret.generated[each.key].id
  secret_string = local.generated[each.key]
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_iam_role" "execution" {
  name = "${var.name}-execution"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ecs-tasks.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

# The execution role (used by ECS to start a task) may read exactly these secrets; the
# application's own task role has no permission at all.
resource "aws_iam_role_policy" "secrets" {
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["secretsmanager:GetSecretValue"], Resource = values(local.secret_arns) }]
  })
}

resource "aws_iam_role" "task" {
  name = "${var.name}-task"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ecs-tasks.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_ecs_cluster" "main" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_task_definition" "app" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  volume {
    name = "data"
  }
  container_definitions = jsonencode([{
    name                   = "agentidp"
    image                  = var.image
    command                = ["serve"]
    essential              = true
    readonlyRootFilesystem = true
    user                   = "65532:65532"
    portMappings           = [{ containerPort = var.container_port, protocol = "tcp" }]
    mountPoints            = [{ sourceVolume = "data", containerPath = "/var/lib/agentidp" }]
    environment = [for k, v in {
      AGENTIDP_HTTP_ADDR       = ":${var.container_port}"
      AGENTIDP_ISSUER          = var.issuer
      AGENTIDP_TRUSTED_PROXIES = join(",", var.trusted_proxies)
      AGENTIDP_LOG_FORMAT      = "json"
    } : { name = k, value = v }]
    secrets = [for k, arn in local.secret_arns : { name = k, valueFrom = arn }]
    healthCheck = {
      command     = ["CMD", "/usr/local/bin/agentidp", "healthcheck"]
      interval    = 10
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app.name
        awslogs-region        = var.region
        awslogs-stream-prefix = "agentidp"
        mode                  = "non-blocking"
        max-buffer-size       = "25m"
      }
    }
    # Longer than AGENTIDP_SHUTDOWN_TIMEOUT (15 s): SIGTERM drains, then the audit writer and
    # the usage counters flush.
    stopTimeout = 30
  }])
}

resource "aws_ecs_service" "app" {
  name                               = var.name
  cluster                            = aws_ecs_cluster.main.id
  task_definition                    = aws_ecs_task_definition.app.arn
  desired_count                      = var.min_replicas
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  health_check_grace_period_seconds  = 60
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  propagate_tags                     = "SERVICE"
  enable_execute_command             = false
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [var.app_security_group_id]
    assign_public_ip = false
  }
  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "agentidp"
    container_port   = var.container_port
  }
  lifecycle {
    # The autoscaler owns the count once the service runs.
    ignore_changes = [desired_count]
  }
}

resource "aws_appautoscaling_target" "app" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.app.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_replicas
  max_capacity       = var.max_replicas
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.app.service_namespace
  resource_id        = aws_appautoscaling_target.app.resource_id
  scalable_dimension = aws_appautoscaling_target.app.scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  name               = "${var.name}-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.app.service_namespace
  resource_id        = aws_appautoscaling_target.app.resource_id
  scalable_dimension = aws_appautoscaling_target.app.scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = var.requests_per_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = var.request_count_resource_label
    }
  }
}
