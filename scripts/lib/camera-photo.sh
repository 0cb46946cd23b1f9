#!/usr/bin/env bash
# Writes a photo as a phone camera would to $1: a 12-megapixel JPEG
# (4000x3000) whose pixels lie on their side with EXIF Orientation 6
# ("rotate 90° clockwise to show"), GPS coordinates, and the camera's make
# and model. Its top-left quarter is red, the rest white, so a test can
# tell which way up a taken-in copy is. Made with ImageMagick and exiftool
# (Debian's imagemagick and libimage-exiftool-perl).
set -euo pipefail
out="$1"
convert=/usr/bin/convert
[ -x "$convert" ] || convert=convert
"$convert" -size 4000x3000 xc:white -fill red -draw "rectangle 0,0 1999,1499" \
  -quality 92 "$out"
exiftool -q -overwrite_original -n \
  -Orientation=6 \
  -GPSLatitude=18.6734 -GPSLatitudeRef=N \
  -GPSLongitude=105.6813 -GPSLongitudeRef=E \
  -Make=SotayTestCam -Model=K1 \
  "$out"
