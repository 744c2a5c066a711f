terraform {
  required_version = ">= 1.6"
  required_providers {
    google = { source = "hashicorp/google", version = "~> 6.0" }
    random = { source = "hashicorp/random", version = "~> 3.6" }
  }
  # The state holds the generated database password, master key and pepper: keep it in an
  # encrypted, access-controlled backend, e.g.
  # backend "gcs" { bucket = "…", prefix = "agentidp" }
}
