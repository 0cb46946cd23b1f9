#!/usr/bin/env bash
# Runs every check and test of the workspace on a fresh Debian/Ubuntu
# machine, installing what it needs first. `.ci/run` calls this script.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/setup.sh

ensure_build_tools

# A real PostgreSQL for the server's storage suite (installed and started
# when missing; each test makes and drops its own schema).
SOTAY_TEST_PG_URL="$(bash scripts/postgres-for-tests.sh)"
export SOTAY_TEST_PG_URL

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test" >&2
cargo test --workspace --locked
