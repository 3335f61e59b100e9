#!/usr/bin/env bash
# Make sure a headless browser and its WebDriver are present for the browser tests (tests/docs) and benchmarks/docs.py:
# Debian's `chromium` and `chromium-driver` packages, installed with apt-get when missing. Needs root (or sudo).
# HUB_SKIP_BROWSER=1 skips the check (the browser tests then skip themselves with a reason).
set -euo pipefail
if [[ "${HUB_SKIP_BROWSER:-}" == "1" ]]; then
    echo "ensure-browser: skipped (HUB_SKIP_BROWSER=1)"
    exit 0
fi
have() { command -v "$1" >/dev/null 2>&1; }
if have chromium && have chromedriver; then
    exit 0
fi
if ! have apt-get; then
    echo "ensure-browser: chromium and chromedriver are missing and apt-get is not available;" \
         "install Chromium and its WebDriver with your package manager" >&2
    exit 1
fi
SUDO=""
if [[ "$(id -u)" != "0" ]]; then
    if have sudo; then SUDO="sudo"; else
        echo "ensure-browser: installing chromium needs root; run: apt-get install chromium chromium-driver" >&2
        exit 1
    fi
fi
echo "ensure-browser: installing chromium and chromium-driver with apt-get"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
have chromium && have chromedriver
