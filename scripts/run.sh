#!/usr/bin/env bash
# Shows Sổ tay working on this machine: builds the headless device
# `sotay-cli` and walks a group leader's day on a fresh data folder.
# (The app issue turns this into: start a local server, launch the app.)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/setup.sh

ensure_build_tools
cargo build --release --locked -p sotay-device --bin sotay-cli
cli="$PWD/target/release/sotay-cli"
data="$(mktemp -d -t sotay-demo-XXXXXX)"
run() { echo "\$ sotay-cli $*"; "$cli" --data "$data" "$@"; echo; }

run init --ward hht --block k01 --group k01-t03 --ward-name "Hà Huy Tập" --block-name "Khối 1" --group-name "Tổ 3"
cat > "$data/ho-gia-dinh.csv" <<'CSV'
Địa chỉ,Chủ hộ,Số nhân khẩu,Số điện thoại,Kinh doanh,Cho thuê trọ,Ghi chú
12 đường Lê Lợi,Nguyễn Văn An,4,0912 345 678,x,,Bán tạp hóa
5 hẻm 3 Nguyễn Du,Trần Thị Bình,6,,,x,Nhà trọ 6 phòng
7 đường Phan Đình Phùng,Lê Văn Cường,3,,,,
CSV
run household import "$data/ho-gia-dinh.csv"
run household list
household="$("$cli" --data "$data" --json household list --search "le loi" | sed -E 's/.*"id":"([^"]+)".*/\1/;q')"
run tip add --category drugs --text "Nghi vấn mua bán ma túy ở hẻm 5 vào ban đêm" --location "hẻm 5 đường Lê Lợi" --anonymous --urgent
run inspect --household "$household" --answers "all=pass,6=fail:bình hết hạn" --violation "6|Thay bình chữa cháy mới|$(date -d '+30 days' +%F)" --ack-by "Chị Lan"
run count --date "$(date +%F)" --residents 110 --collected 80 --activated 41 --helped 3
echo "# A wrong count is refused with the field named, and nothing is written:"
run count --date "$(date +%F)" --residents 110 --collected 80 --activated 90 || true
run list
run search "ma tuy"
echo "Data folder: $data"
