#!/usr/bin/env bash
# OS packages the tests and the emulator use, from Debian's own archive (no browser downloads):
#   chromium, chromium-driver  headless browser for the UI tests (tests/browser/)
#   fonts-wqy-microhei         a CJK-capable font, so emulator videos draw Chinese prompts
# Runs apt-get only as root and only for what is missing; otherwise it just says what is absent
# (the browser tests then skip with that reason, and the emulator falls back to Pillow's font).
set -euo pipefail

wanted=(chromium chromium-driver fonts-wqy-microhei)
missing=()
for package in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
    echo "install-system-deps: missing ${missing[*]} (not root or no apt-get: install them yourself)" >&2
    exit 0
fi
echo "install-system-deps: apt-get install ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
