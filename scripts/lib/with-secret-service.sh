#!/usr/bin/env bash
# Runs a command against a real Secret Service: a private D-Bus session
# with gnome-keyring-daemon unlocked in it, its keyrings in a temporary
# folder (nothing of the user's own keyring is touched).
#   bash scripts/lib/with-secret-service.sh cargo test … -- --ignored
set -euo pipefail
scratch="$(mktemp -d -t sotay-keyring-XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
mkdir -m 700 "$scratch/run" "$scratch/data"
export XDG_RUNTIME_DIR="$scratch/run" XDG_DATA_HOME="$scratch/data"
exec dbus-run-session -- bash -c '
  printf "sotay-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"' bash "$@"
