#!/bin/sh
# Screenshot of reports/index.html as a person sees it: headless Chromium, no network.
#
#   scripts/screenshot_report.sh [REPORT_HTML] [OUT_PNG] [WIDTHxHEIGHT]
#   defaults: reports/index.html  reports/index.png  1280x3000
#
# Needs Debian's `chromium` (apt-get install -y chromium). The page is opened from disk
# with networking off (--disable-background-networking, no sync, no component updates,
# a throw-away profile); the report must render without any network access.
set -eu
html=${1:-reports/index.html}
out=${2:-reports/index.png}
size=${3:-1280x3000}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "chromium not found (apt-get install -y chromium)" >&2
    exit 3
fi
if [ ! -f "$html" ]; then
    echo "$html not found (run make report first)" >&2
    exit 2
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
abs=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")
mkdir -p "$(dirname "$out")"
out_abs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" \
    --window-size="$(echo "$size" | tr x ,)" --screenshot="$out_abs" "file://$abs" >/dev/null 2>&1
test -s "$out_abs"
echo "$out_abs"
