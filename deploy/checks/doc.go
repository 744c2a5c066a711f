// Package checks holds the deployment checks: Terraform parsed with HCL, the Helm chart
// rendered and decoded into the Kubernetes types, the compose file, the alert rules.
package checks
