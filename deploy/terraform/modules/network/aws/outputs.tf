output "vpc_id" {
  description = "The VPC's id."
  value       = aws_vpc.main.id
}

output "vpc_cidr" {
  description = "The VPC's address range."
  value       = aws_vpc.main.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (load balancer, NAT gateways)."
  value       = aws_subnet.public[*].id
}

output "public_subnet_cidrs" {
  description = "Address ranges of the public subnets: the load balancer's nodes take their addresses from them."
  value       = aws_subnet.public[*].cidr_block
}

output "private_subnet_ids" {
  description = "Private subnets (tasks, database, Redis)."
  value       = aws_subnet.private[*].id
}

output "app_security_group_id" {
  description = "Security group of the AgentIdP tasks (the load balancer, database and Redis let it in)."
  value       = aws_security_group.app.id
}
