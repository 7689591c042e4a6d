#!/usr/bin/env bash
# Installs what Breakwater needs on a fresh Debian machine, or says what is missing.
# Usage: .ci/deps.sh [run|test|bench]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libzmq3-dev libsqlite3-dev libcurl4-openssl-dev libsecp256k1-dev pkg-config python3-venv sqlite3 curl)
# promtool (Debian's prometheus) checks and unit-tests the alert rules; amtool and alertmanager run their routing.
# The compose test runs its own Docker engine (docker.io) on a base image made by debootstrap.
[ "${1:-run}" = "test" ] && packages+=(prometheus prometheus-alertmanager docker.io docker-compose debootstrap)
# Headless Chromium renders the report page (`breakwater report --html`, the supervisor's `/`) and proves its charts drew.
[ "${1:-run}" = "test" ] && packages+=(chromium)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "installing ${missing[*]}"
        # Debian starts a service when its package is installed; the compose test starts a dockerd of its own
        # and leaves the machine's daemons alone, so none is started here (unless a policy already decides).
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
            chmod 755 /usr/sbin/policy-rc.d
            trap 'rm -f /usr/sbin/policy-rc.d' EXIT
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "Breakwater needs these Debian packages: ${missing[*]}" >&2
        echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "Breakwater needs Swift 6.1 or later on PATH (swift.org/install)." >&2
    exit 1
fi

# Python packages in .venv: ChromaDB (the recall server) for running, and reference
# implementations, validators and SDKs for tests. hftbacktest, backtest-bench's baseline, pins an older
# numpy than the tests and gets .venv-bench of its own.
install_requirements() {
    local venv=$1 file=$2
    if [ ! -x "$venv/bin/python3" ]; then
        python3 -m venv "$venv"
    fi
    local stamp="$venv/.installed-$(basename "$file")"
    if ! cmp -s "$file" "$stamp" 2>/dev/null; then
        echo "installing Python packages from $file into $venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$file"
        cp "$file" "$stamp"
    fi
}
install_requirements .venv .ci/requirements-run.txt
[ "${1:-run}" = "test" ] && install_requirements .venv .ci/requirements-test.txt
[ "${1:-run}" = "bench" ] && install_requirements .venv-bench .ci/requirements-bench.txt
exit 0
