#!/usr/bin/env bash
# Make sure PostgreSQL's server binaries (initdb, pg_ctl, postgres, pg_isready) are present for the postgres warehouse
# tests (tests/warehouse/test_postgres*.py): Debian's `postgresql` package, installed with apt-get when missing.
# Needs root (or sudo). It never starts or enables a system service: the tests start a throwaway cluster of their own
# (tests/pg.py). HUB_SKIP_POSTGRES=1 skips the check (the postgres tests then skip themselves with a reason).
set -euo pipefail
if [[ "${HUB_SKIP_POSTGRES:-}" == "1" ]]; then
    echo "ensure-postgres: skipped (HUB_SKIP_POSTGRES=1)"
    exit 0
fi
found() {  # initdb is not on PATH on Debian: it lives in /usr/lib/postgresql/<major>/bin
    command -v initdb >/dev/null 2>&1 && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
if found; then
    exit 0
fi
have() { command -v "$1" >/dev/null 2>&1; }
if ! have apt-get; then
    echo "ensure-postgres: PostgreSQL's server (initdb, pg_ctl) is missing and apt-get is not available;" \
         "install PostgreSQL with your package manager, or set HUB_SKIP_POSTGRES=1" >&2
    exit 1
fi
SUDO=""
if [[ "$(id -u)" != "0" ]]; then
    if have sudo; then SUDO="sudo"; else
        echo "ensure-postgres: installing postgresql needs root; run: apt-get install postgresql" >&2
        exit 1
    fi
fi
echo "ensure-postgres: installing postgresql with apt-get (no service is started)"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d exit 101 tells Debian's maintainer scripts not to start the service the package ships
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=0
if [[ ! -e "$POLICY" ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    ADDED_POLICY=1
fi
cleanup() { if [[ "$ADDED_POLICY" == "1" ]]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
found
