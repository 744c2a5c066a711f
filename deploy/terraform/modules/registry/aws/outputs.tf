output "repository_url" {
  description = "Where to push the image (docker push <url>:<tag>)."
  value       = aws_ecr_repository.main.repository_url
}

output "repository_arn" {
  description = "The repository's ARN (the task execution role may pull from it)."
  value       = aws_ecr_repository.main.arn
}
