#!/usr/bin/env bash
# Dashboard checks: unit tests (Vitest), a rebuild that must match the committed dist/
# (the Go binary embeds it, so building Go never needs Node), and the end-to-end browser
# test in headless Chromium against a real server (Chromium installed with apt-get where
# missing), and the interoperability test with stock OAuth libraries (openid-client,
# oauth4webapi) against the same server binary.
set -euo pipefail
cd "$(dirname "$0")/../dashboard"

npm ci --no-audit --no-fund --loglevel=error
echo "== dashboard: vitest"
npx vitest run
echo "== dashboard: build must match the committed dist/"
npm run build >/dev/null
if ! git diff --quiet --exit-code -- dist || [ -n "$(git status --porcelain -- dist)" ]; then
  git status --short -- dist | head -20
  echo "dashboard/dist differs from a fresh build: run 'npm run build' in dashboard/ and commit dist/" >&2
  exit 1
fi
echo "== dashboard: end-to-end in Chromium"
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi
fi
# One server binary for both end-to-end scripts.
bin_dir="$(mktemp -d)"
trap 'rm -rf "$bin_dir"' EXIT
(cd .. && go build -o "$bin_dir/agentidp" ./cmd/agentidp)
E2E_SERVER_BIN="$bin_dir/agentidp" node e2e/run.mjs
echo "== interoperability: openid-client and oauth4webapi against the server"
E2E_SERVER_BIN="$bin_dir/agentidp" node e2e/interop.mjs
