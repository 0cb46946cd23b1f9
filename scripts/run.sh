#!/usr/bin/env bash
# Shows Sổ tay working on this machine: installs what it needs, builds the
# ward's server and the app, starts a local `sotay-server` on its embedded
# SQLite with the demo ward, makes an enrollment code, enrolls a fresh app
# data folder with it (and imports a few households), creates a demo
# dashboard officer (printed with its password), then opens the app already
# enrolled (it asks for a PIN first). Closing the app stops the server.
#
#   SOTAY_PORT=8787 scripts/run.sh      # the server's port (default 8787)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/setup.sh

ensure_build_tools
ensure_app_deps
ensure_apt curl
build_ui
cargo build --release --locked -p sotay-server -p sotay-device -p sotay-app \
  --bin sotay-server --bin sotay-cli --bin sotay
bin="$PWD/target/release"
demo="$(mktemp -d -t sotay-demo-XXXXXX)"
port="${SOTAY_PORT:-8787}"
server_url="http://127.0.0.1:$port"
db="$demo/server.sqlite3"

echo "\$ sotay-server admin seed-demo"
seed_out="$("$bin/sotay-server" --db "$db" admin seed-demo)"
echo "$seed_out"
# The demo ward's recovery passphrase is the last line: it gives the demo
# officer the "see sources" permission (a real ward keeps it on paper).
passphrase="${seed_out##*$'\n'}"
demo_password="demo-sotay-$(date +%s)"
printf '%s\n%s\n' "$demo_password" "$passphrase" |
  "$bin/sotay-server" --db "$db" admin officer add demo --role admin --sources
"$bin/sotay-server" --db "$db" serve --listen "127.0.0.1:$port" &
server_pid=$!
trap 'kill -TERM "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  kill -0 "$server_pid" 2>/dev/null || { echo "sotay-server did not start (is port $port taken? set SOTAY_PORT)" >&2; exit 1; }
  curl -fsS "$server_url/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "\$ sotay-server admin enroll --group k01-t03 --server $server_url"
enroll_out="$("$bin/sotay-server" --db "$db" admin enroll --group k01-t03 --server "$server_url")"
link="${enroll_out%%$'\n'*}"
echo "$link"
app_data="$demo/app"
"$bin/sotay-cli" --data "$app_data" enroll --link "$link"
cat > "$demo/ho-gia-dinh.csv" <<'CSV'
Địa chỉ,Chủ hộ,Số nhân khẩu,Số điện thoại,Kinh doanh,Cho thuê trọ,Ghi chú
12 đường Lê Lợi,Nguyễn Văn An,4,0912 345 678,x,,Bán tạp hóa
5 hẻm 3 Nguyễn Du,Trần Thị Bình,6,,,x,Nhà trọ 6 phòng
7 đường Phan Đình Phùng,Lê Văn Cường,3,,,,
CSV
"$bin/sotay-cli" --data "$app_data" household import "$demo/ho-gia-dinh.csv"

echo
echo "Server: $server_url (database $db)"
echo "Dashboard: $server_url/dashboard  (login: demo / $demo_password; at the first login you choose your own password)"
echo "App data: $app_data"
echo "Try: $bin/sotay-server --db $db admin export --format json"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  SOTAY_DATA_DIR="$app_data" "$bin/sotay"
else
  echo "No display found: running the app on a virtual display (Xvfb). Stop with Ctrl-C."
  SOTAY_DATA_DIR="$app_data" xvfb-run -a "$bin/sotay"
fi
