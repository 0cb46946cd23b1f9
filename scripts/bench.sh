#!/usr/bin/env bash
# Runs the benchmarks of docs/BENCHMARKS.md on a fresh Debian/Ubuntu
# machine, installing what they need first.
#   bash scripts/bench.sh          every benchmark
#   bash scripts/bench.sh peer     the push pipeline against PouchDB (issue 13)
#   bash scripts/bench.sh sync     one device's sync on both backends
# Each prints Markdown for docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/setup.sh

ensure_build_tools
ensure_app_deps
# The device store bench and the photo bench need what the tests need.
ensure_apt imagemagick libimage-exiftool-perl
SOTAY_TEST_PG_URL="$(bash scripts/postgres-for-tests.sh)"
export SOTAY_TEST_PG_URL
# The workspace embeds ui/dist (the app crate), so cargo needs it built.
build_ui

# PouchDB 9 and pouchdb-server, exactly as bench/pouchdb/package-lock.json
# pins them; --ignore-scripts: leveldown ships prebuilt binaries.
ensure_pouchdb() {
  if [ ! -d bench/pouchdb/node_modules ] || [ bench/pouchdb/package-lock.json -nt bench/pouchdb/node_modules/.package-lock.json ]; then
    (cd bench/pouchdb && npm ci --ignore-scripts --no-audit --no-fund)
  fi
}

run() {
  case "$1" in
    peer) ensure_pouchdb; cargo bench --locked -p sotay-e2e --bench peer ;;
    sync) cargo bench --locked -p sotay-e2e --bench sync ;;
    photos) cargo bench --locked -p sotay-e2e --bench photos ;;
    store) cargo bench --locked -p sotay-device --bench store ;;
    *) echo "unknown benchmark $1 (peer, sync, photos, store)" >&2; return 2 ;;
  esac
}

if [ "$#" -eq 0 ]; then
  set -- store sync photos peer
fi
for b in "$@"; do
  echo "== bench: $b" >&2
  run "$b"
done
