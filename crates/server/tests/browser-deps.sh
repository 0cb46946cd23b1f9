#!/usr/bin/env bash
# Installs what the dashboard's browser tests need: Debian's chromium and
# chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver). Idempotent:
# does nothing when both are present. Run as root (or with sudo available).
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium && test -x /usr/bin/chromedriver
