#!/usr/bin/env bash
# The OS packages the tests, the demo and the emulator use, all from Debian's own archive (no
# browser or binary downloads from anywhere else):
#   postgresql, redis-server   the distributed e2e test (tests/e2e/test_distributed_load.py) runs its
#                              own throw-away servers as the current user; nothing is started or enabled
#   chromium, chromium-driver  headless browser for the UI tests (tests/browser/)
#   fonts-wqy-microhei         a CJK-capable font, so emulator videos draw Chinese prompts
# Installed with apt-get when missing and running as root on Debian/Ubuntu (CI); otherwise says
# what is missing and exits 0: the tests that need it then fail (or skip) naming it.
set -eu
missing=()
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
for package in chromium chromium-driver fonts-wqy-microhei; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install_system_deps: apt-get install ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "install_system_deps: missing ${missing[*]}; install them (e.g. sudo apt-get install -y ${missing[*]})," \
         "or the tests that need them fail or skip saying so" >&2
fi
