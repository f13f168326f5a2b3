#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the browser tests, from Debian's own packages
# (`chromium`, `chromium-driver`); never a browser downloaded from the web. Quick when installed.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
    echo "install-browser: run as root, or: sudo apt-get install chromium chromium-driver" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends chromium chromium-driver \
    || { apt-get update -q && apt-get install -y -q --no-install-recommends chromium chromium-driver; }
