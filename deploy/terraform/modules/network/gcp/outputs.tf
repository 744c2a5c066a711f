output "network_id" {
  description = "The VPC's id (projects/…/global/networks/…)."
  value       = google_compute_network.main.id
}

output "subnetwork_id" {
  description = "The private subnet's id."
  value       = google_compute_subnetwork.private.id
}

output "private_services_connection" {
  description = "The private service access peering; Cloud SQL and Memorystore wait for it."
  value       = google_service_networking_connection.services.id
}
