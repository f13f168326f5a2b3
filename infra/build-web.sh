#!/usr/bin/env bash
# The dashboard's front-end libraries: `npm ci` from api/dashboard/package-lock.json, then the files
# the pages load are copied to api/dashboard/static/vendor/ (served by the app; no CDN, no tiles).
# Idempotent: does nothing when the vendor files match the lock file already (a stamp holds its hash).
set -euo pipefail
cd "$(dirname "$0")/../api/dashboard"
VENDOR=static/vendor
STAMP="$VENDOR/.lock-sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -f "$VENDOR/chart.umd.min.js" && -f "$VENDOR/leaflet.js" ]]; then
    exit 0
fi
command -v npm >/dev/null || { echo "build-web: npm is required (Debian: apt-get install npm)" >&2; exit 1; }
npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
mkdir -p "$VENDOR/images"
cp node_modules/chart.js/dist/chart.umd.min.js "$VENDOR/"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$VENDOR/"
cp node_modules/leaflet/dist/images/*.png "$VENDOR/images/"
cp node_modules/chart.js/LICENSE.md "$VENDOR/chart.js.LICENSE.md"
cp node_modules/leaflet/LICENSE "$VENDOR/leaflet.LICENSE"
echo "$want" > "$STAMP"
echo "build-web: chart.js $(node -p "require('./node_modules/chart.js/package.json').version"), leaflet $(node -p "require('./node_modules/leaflet/package.json').version") in api/dashboard/$VENDOR"
