#!/usr/bin/env bash
# Runs every check and test of the workspace on a fresh Debian/Ubuntu
# machine, installing what it needs first. `.ci/run` calls this script.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/setup.sh

ensure_build_tools
ensure_app_deps
ensure_tauri_driver
# A real Secret Service for the keystore test; util-linux's unshare for the
# test that runs the CLI in a network namespace without network.
ensure_apt dbus-daemon gnome-keyring util-linux
# Camera-like photos with EXIF orientation and GPS for the photo tests, and
# exiftool to read what metadata a taken-in photo still has (none).
ensure_apt imagemagick libimage-exiftool-perl

# A real PostgreSQL for the server's storage suite (installed and started
# when missing; each test makes and drops its own schema).
SOTAY_TEST_PG_URL="$(bash scripts/postgres-for-tests.sh)"
export SOTAY_TEST_PG_URL

# Debian's Chromium and ChromeDriver for the dashboard's browser tests.
bash crates/server/tests/browser-deps.sh

# The UI first: the app binary embeds ui/dist, so cargo needs it built.
echo "== ui: build, typecheck, vitest" >&2
build_ui
(cd ui && npm run --silent typecheck && npm test --silent)

# One clean build: incremental caches would only double the disk it takes.
export CARGO_INCREMENTAL=0

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test" >&2
cargo test --workspace --locked

# The device store's key in a real OS keystore: gnome-keyring's Secret
# Service in a private D-Bus session.
echo "== keystore (Secret Service)" >&2
# `--workspace` as everywhere here: a `-p` selection resolves features
# differently and would build the whole tree again.
bash scripts/lib/with-secret-service.sh \
  cargo test --locked --workspace --test encryption -- --ignored

# The real app window under Xvfb, driven through tauri-driver and
# WebKitWebDriver against a real sotay-server; screenshots go to
# artifacts/screenshots/.
echo "== app end-to-end (Xvfb + tauri-driver)" >&2
# The same package selection as `cargo test --workspace` above, so nothing
# is built again; that run also built target/debug/sotay-server, which the
# test starts.
SOTAY_APP_E2E=1 xvfb-run -a -s "-screen 0 1280x1024x24" \
  cargo test --locked --workspace --test e2e -- --nocapture

# What the build took, for the CI log (a full disk once failed a run).
echo "== target/ holds $(du -sh target | cut -f1)" >&2
