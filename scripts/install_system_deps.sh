#!/usr/bin/env bash
# The OS packages the distributed e2e test needs: PostgreSQL (initdb, postgres) and Redis
# (redis-server). Installed with apt-get when missing and running as root on Debian/Ubuntu (CI);
# otherwise says what to install and exits 0: the test itself then fails naming what is missing.
# Nothing is started or enabled: the test runs its own throw-away servers as the current user.
set -eu
have_postgres() { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
have_redis() { command -v redis-server >/dev/null 2>&1; }
if have_postgres && have_redis; then
    exit 0
fi
packages=()
have_postgres || packages+=(postgresql)
have_redis || packages+=(redis-server)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install_system_deps: installing ${packages[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}"
else
    echo "install_system_deps: missing ${packages[*]}; install them (e.g. sudo apt-get install -y ${packages[*]})," \
         "or the distributed e2e test (pytest -m distributed) fails" >&2
fi
