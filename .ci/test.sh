#!/usr/bin/env bash
# The README's test command: starts what the tests need, then vet, staticcheck and every
# Go test with the race detector against real PostgreSQL and Redis, then the deploy checks
# (their own Go module under deploy/: Terraform, Helm chart, compose), then the dashboard's
# unit and browser tests. CI=true turns a missing service into a failure instead of a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash .ci/services.sh)"
export AGENTIDP_TEST_DATABASE_URL AGENTIDP_TEST_REDIS_URL

echo "== go vet"
go vet ./...
echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
echo "== go test -race"
go test -race -count=1 -timeout 20m ./...

# The Go client package is a module of its own (client/go.mod), which ./... above does not
# reach: the same checks there. Its end-to-end tests build and run the server from this
# repository.
echo "== client module: go vet, staticcheck, go test -race"
(
  cd client
  go vet ./...
  go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
  go test -race -count=1 -timeout 10m ./...
)

# deploy/ is a Go module of its own, so that the server's go.mod carries no HCL, Helm or
# Kubernetes; `./...` above does not enter it.
echo "== deploy checks: go vet and go test in deploy/"
(cd deploy && go vet ./... && go test -count=1 -timeout 10m ./...)
if command -v terraform >/dev/null 2>&1; then
  echo "== terraform fmt -check"
  terraform fmt -check -recursive deploy/terraform
else
  echo "== terraform not installed: terraform fmt -check skipped (the Go checks above parse every file)"
fi

echo "== fuzz (bounded)"
FUZZTIME="${FUZZTIME:-20s}" bash .ci/fuzz.sh

if [ -f dashboard/package.json ] && [ "${AGENTIDP_SKIP_DASHBOARD:-}" != 1 ]; then
  bash .ci/dashboard.sh
fi
