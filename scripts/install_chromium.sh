#!/usr/bin/env bash
# Installs Debian's chromium (and a font, so pages render text) for the page tests and the README
# screenshots, when /usr/bin/chromium is missing. Only Debian's package: no browser is downloaded
# from anywhere else. Run by `scripts/dev.sh test`, so CI on a fresh machine gets it too.
set -euo pipefail

browser=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$browser" ]; then
  exit 0
fi

if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "install_chromium: $browser is missing and installing it needs root: apt-get install chromium fonts-dejavu-core" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "install_chromium: $browser is missing and there is no apt-get here; install Chromium, or set CHROMIUM=/path/to/it" >&2
  exit 1
fi

echo "install_chromium: installing Debian's chromium..." >&2
start=$SECONDS
log=$(mktemp -t install-chromium.XXXXXX.log)
export DEBIAN_FRONTEND=noninteractive
if ! { "${as_root[@]}" apt-get update -q && "${as_root[@]}" apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core; } >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  echo "install_chromium: apt-get failed; full log in $log" >&2
  exit 1
fi
rm -f "$log"
echo "install_chromium: done in $((SECONDS - start)) s" >&2
