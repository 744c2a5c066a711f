output "ip_address" {
  description = "The load balancer's global address (point the issuer's host name at it)."
  value       = google_compute_global_address.lb.address
}
