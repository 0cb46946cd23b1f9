#!/usr/bin/env bash
# Makes a PostgreSQL server available for sotay-server's tests and benchmark,
# idempotently: installs Debian's `postgresql` when missing, starts the
# installed cluster when it is down, and creates the role `sotay` (password
# `sotay`) and the database `sotay_test`. Prints only the URL to use:
#
#   export SOTAY_TEST_PG_URL="$(bash scripts/postgres-for-tests.sh)"
#
# Each test then makes and drops its own schema inside `sotay_test`.
set -euo pipefail

log() { echo "postgres-for-tests: $*" >&2; }

# Only the URL may reach stdout: callers capture it with $(...). Every tool
# below (apt-get, pg_ctlcluster's "Removed stale pid file.", psql) writes to
# stderr instead; the URL goes out through fd 3.
exec 3>&1 1>&2

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null 3>&-
fi

# The newest installed major version, e.g. 15 on Debian 12.
major="$(ls /usr/lib/postgresql | sort -n | tail -n 1)"
if ! pg_lsclusters -h 2>/dev/null | awk -v v="$major" '$1 == v && $2 == "main"' | grep -q .; then
  log "creating cluster $major/main"
  pg_createcluster "$major" main >/dev/null 3>&-
fi
if ! pg_lsclusters -h | awk -v v="$major" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  # 3>&-: the server must not inherit the pipe the caller reads the URL from.
  pg_ctlcluster "$major" main start 3>&-
fi
port="$(pg_lsclusters -h | awk -v v="$major" '$1 == v && $2 == "main" {print $3}')"

# Wait until it accepts connections (a fresh start takes a moment).
for _ in $(seq 1 50); do
  if su postgres -c "psql -p $port -qAtc 'select 1'" >/dev/null 2>&1; then break; fi
  sleep 0.2
done

psql_admin() { su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -qAt $*" ; }
if [ "$(psql_admin "-c \"select 1 from pg_roles where rolname = 'sotay'\"")" != "1" ]; then
  psql_admin "-c \"create role sotay login password 'sotay'\"" >/dev/null
fi
if [ "$(psql_admin "-c \"select 1 from pg_database where datname = 'sotay_test'\"")" != "1" ]; then
  psql_admin "-c \"create database sotay_test owner sotay\"" >/dev/null
fi

echo "postgres://sotay:sotay@127.0.0.1:${port}/sotay_test" >&3
