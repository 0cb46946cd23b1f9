# Shared set-up for the project's scripts: installs what a fresh
# Debian/Ubuntu machine lacks. Sourced, not run.

# Runs a command as root (directly, or through sudo when not root).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages given that are not installed yet.
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: apt-get install ${missing[*]}" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Makes sure a Rust toolchain (1.95 or newer: the workspace's rust-version) is on PATH.
ensure_rust() {
  if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
  if ! command -v cargo >/dev/null 2>&1; then
    ensure_apt curl ca-certificates
    echo "setup: installing Rust with rustup" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component rustfmt,clippy
    . "$HOME/.cargo/env"
  fi
}

# The build tools every crate needs: bundled SQLCipher is compiled with cc,
# and the OpenSSL it brings (vendored) is configured with perl.
ensure_build_tools() {
  ensure_apt build-essential pkg-config ca-certificates git perl
  ensure_rust
}

# What the app (src-tauri + ui) needs to build and be tested: WebKitGTK and
# friends, Xvfb and Debian's WebKitWebDriver for the end-to-end test, an
# emoji font for the UI's icons, Node.js with npm for the UI.
ensure_app_deps() {
  ensure_apt libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libsoup-3.0-dev \
    libayatana-appindicator3-dev libssl-dev file xvfb xauth webkit2gtk-driver \
    fonts-noto-color-emoji
  if ! command -v npm >/dev/null 2>&1; then
    ensure_apt nodejs npm
  fi
  # Vite 7 needs Node.js 20.19+ (Debian 12's and Ubuntu 24.04's own nodejs
  # is 18): then take Node.js 22 from the npm registry's `node` package into
  # .tools/node (ignored by git) and put it first on PATH.
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -lt 20 ]; then
    local tools="$PWD/.tools/node"
    if [ ! -x "$tools/node_modules/.bin/node" ]; then
      echo "setup: Node.js $(node --version 2>/dev/null || echo none) is too old; installing Node.js 22 from npm into .tools/node" >&2
      npm install --no-audit --no-fund --prefix "$tools" node@22 >/dev/null
    fi
    export PATH="$tools/node_modules/.bin:$PATH"
    major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
    if [ "$major" -lt 20 ]; then
      echo "setup: the UI needs Node.js 20.19 or newer (found $(node --version 2>/dev/null || echo none))" >&2
      return 1
    fi
  fi
}

# Installs the UI's npm packages (exactly as package-lock.json pins them)
# and builds it into ui/dist, which the app binary embeds: this must run
# before any cargo build of the workspace.
build_ui() {
  if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    (cd ui && npm ci --no-audit --no-fund)
  fi
  (cd ui && npm run --silent build)
}

# tauri-driver, the WebDriver bridge the app's end-to-end test drives.
ensure_tauri_driver() {
  if ! command -v tauri-driver >/dev/null 2>&1; then
    cargo install tauri-driver --version '^2' --locked
  fi
}
