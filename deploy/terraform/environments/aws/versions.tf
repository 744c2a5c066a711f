terraform {
  required_version = ">= 1.6"
  required_providers {
    aws    = { source = "hashicorp/aws", version = "~> 5.0" }
    random = { source = "hashicorp/random", version = "~> 3.6" }
  }
  # The state holds the generated database password, Redis token, master key and pepper:
  # keep it in an encrypted, access-controlled backend, e.g.
  # backend "s3" { bucket = "…", key = "agentidp/terraform.tfstate", region = "us-east-1", encrypt = true, use_lockfile = true }
}
