#!/usr/bin/env bash
# Runs schemathesis (property-based API testing, from PyPI) against a real
# sotay-server on loopback, driven by the server's own /openapi.json, with
# an enrolled device's token so the sync endpoints are exercised past
# authentication. Not part of scripts/test.sh (it needs PyPI); run by hand:
#
#   bash scripts/schemathesis.sh            # SQLite
#   SOTAY_DB=postgres://… bash scripts/schemathesis.sh
#
# Exit status is schemathesis's: non-zero on any server error (5xx) or a
# response that does not match the schema.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${SCHEMATHESIS_VENV:-$HOME/.cache/sotay/schemathesis-venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'schemathesis>=4,<5'
fi

cargo build -q -p sotay-server --bin sotay-server
bin="$PWD/target/debug/sotay-server"
work="$(mktemp -d -t sotay-st-XXXXXX)"
db="${SOTAY_DB:-$work/server.sqlite3}"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"

"$bin" --db "$db" admin seed-demo >/dev/null
"$bin" --db "$db" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -fsS "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

code="$("$bin" --db "$db" admin enroll --group k01-t01 --server "$url" --no-qr | tail -n 1)"
token="$(curl -fsS -H 'content-type: application/json' \
  -d "{\"code\":\"$code\",\"device_name\":\"schemathesis\"}" "$url/v1/enroll" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"

"$venv/bin/schemathesis" run "$url/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks all \
  --max-examples "${ST_MAX_EXAMPLES:-100}" \
  --workers 2 \
  "$@"
