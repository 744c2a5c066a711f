// Package checks holds the deployment checks: Terraform parsed with HCL, the Helm chart
// rendered and decoded into the Kubernetes types, the compose file, the Prometheus alert rules
// and the Grafana dashboard (every metric they use is one the server exports).
package checks
