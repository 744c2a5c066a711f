#!/usr/bin/env bash
# The README's test command: starts what the tests need, then vet, staticcheck and every
# Go test with the race detector against real PostgreSQL and Redis, then the dashboard's
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

if [ -f dashboard/package.json ] && [ "${AGENTIDP_SKIP_DASHBOARD:-}" != 1 ]; then
  bash .ci/dashboard.sh
fi
