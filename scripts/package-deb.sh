#!/usr/bin/env bash
# Builds the Debian package of sotay-server: the binary, a systemd unit, its
# settings in /etc/sotay/sotay-server.env and a dedicated user `sotay`
# (made on install). The result is target/deb/sotay-server_VERSION_ARCH.deb.
#
#   bash scripts/package-deb.sh                  # a release build
#   bash scripts/package-deb.sh --binary PATH    # package a binary already built
#
# Install with `sudo apt install ./target/deb/sotay-server_*.deb`; see
# crates/server/README.md ("Installing the package") for the first steps.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
if [ "${1:-}" = --binary ]; then
    binary="$2"
else
    cargo build --release --locked -p sotay-server --bin sotay-server
    binary=target/release/sotay-server
fi
[ -x "$binary" ] || { echo "no binary at $binary" >&2; exit 1; }

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
arch="$(dpkg --print-architecture)"
root="$(mktemp -d)"
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT

install -D -m 0755 "$binary" "$root/usr/bin/sotay-server"
install -D -m 0644 packaging/deb/sotay-server.service "$root/lib/systemd/system/sotay-server.service"
install -D -m 0640 packaging/deb/sotay-server.env "$root/etc/sotay/sotay-server.env"
install -D -m 0644 crates/server/README.md "$root/usr/share/doc/sotay-server/README.md"
install -d -m 0755 "$root/DEBIAN"
for f in postinst prerm postrm; do
    install -m 0755 "packaging/deb/$f" "$root/DEBIAN/$f"
done
echo /etc/sotay/sotay-server.env > "$root/DEBIAN/conffiles"
size="$(du -sk "$root/usr" "$root/lib" "$root/etc" | awk '{s += $1} END {print s}')"
cat > "$root/DEBIAN/control" <<CONTROL
Package: sotay-server
Version: $version
Architecture: $arch
Maintainer: Sổ tay <sotay@localhost>
Installed-Size: $size
Depends: libc6, passwd
Section: net
Priority: optional
Description: Sổ tay sync server and ward dashboard
 The central server of Sổ tay, the offline-first notebook of neighbourhood
 group leaders: devices sync their security tips, fire-safety inspections
 and electronic-ID counts to it, and ward officers read them on its
 dashboard. Embedded SQLite by default, PostgreSQL to grow.
CONTROL

mkdir -p target/deb
out="target/deb/sotay-server_${version}_${arch}.deb"
# xz for a release; SOTAY_DEB_COMPRESSION=none makes the test quick.
dpkg-deb --root-owner-group -Z"${SOTAY_DEB_COMPRESSION:-xz}" --build "$root" "$out" >/dev/null
echo "$out"
