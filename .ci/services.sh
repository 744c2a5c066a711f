#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis are there for the tests: installs them with apt-get where
# missing, starts them where stopped, and, where TCP login as postgres needs a password,
# creates a role of its own through the postgres OS user. Prints the URLs to export.
set -euo pipefail

log() { echo "services: $*" >&2; }
need_apt_update=1
apt_install() {
  if [ "$need_apt_update" = 1 ]; then apt-get update -qq >&2; need_apt_update=0; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- PostgreSQL --------------------------------------------------------------------------
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  log "installing PostgreSQL"; as_root bash -c "$(declare -f apt_install); need_apt_update=1; apt_install postgresql postgresql-client"
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting PostgreSQL $ver"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
db_url="${AGENTIDP_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
if ! psql "$db_url" -Atqc 'select 1' >/dev/null 2>&1; then
  log "TCP login as postgres refused; creating role agentidp_test"
  pw=agentidp_test_pw
  as_root su postgres -c "psql -v ON_ERROR_STOP=1 -qc \"DO \\\$\\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='agentidp_test') THEN CREATE ROLE agentidp_test LOGIN SUPERUSER PASSWORD '$pw'; END IF; END\\\$\\\$;\"" >&2
  db_url="postgres://agentidp_test:$pw@127.0.0.1:5432/postgres?sslmode=disable"
  psql "$db_url" -Atqc 'select 1' >/dev/null
fi

# --- Redis -------------------------------------------------------------------------------
redis_url="${AGENTIDP_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
if ! command -v redis-server >/dev/null 2>&1; then
  log "installing Redis"; as_root bash -c "$(declare -f apt_install); need_apt_update=1; apt_install redis-server"
fi
if ! redis-cli -u "$redis_url" ping >/dev/null 2>&1; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2
  for _ in $(seq 1 30); do redis-cli -u "$redis_url" ping >/dev/null 2>&1 && break; sleep 0.5; done
fi

echo "export AGENTIDP_TEST_DATABASE_URL='$db_url'"
echo "export AGENTIDP_TEST_REDIS_URL='$redis_url'"
