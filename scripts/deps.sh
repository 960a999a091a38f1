#!/usr/bin/env bash
# deps.sh - install what Strata needs from Debian's packages, and nothing when
# everything is already there. Idempotent; run as root (or with sudo).
#   scripts/deps.sh          build dependencies
#   scripts/deps.sh --test   build dependencies plus the test database servers
#                            (including a Galera cluster's)
set -euo pipefail

pkgs=(build-essential cmake pkg-config libpq-dev default-libmysqlclient-dev libsqlite3-dev
      libjansson-dev libcunit1-dev libssl-dev iso-codes)
if [[ "${1:-}" == "--test" ]]; then
    # graphviz renders the schema diagrams (scripts/diagrams.sh), zsh runs the
    # completion tests, dpkg-dev builds and reads the Debian package
    pkgs+=(postgresql postgresql-client mariadb-server mariadb-client sqlite3
           python3 python3-jsonschema valgrind libxml2-utils graphviz zsh dpkg-dev)
    # The Galera cluster of services.sh start-galera: the wsrep provider, and
    # what its rsync SST script runs: rsync, ss (iproute2; lsof would do too)
    # and ps (procps). socat is needed only by the mariabackup SST method.
    pkgs+=(galera-4 rsync iproute2 procps)
    # scripts/medusa-e2e.sh: a real Medusa 1.20 server (node >= 16, npm) and
    # the tools that drive and compare it. A node that brings its own npm
    # (NodeSource's) is left alone: Debian's npm package would replace it.
    pkgs+=(nodejs jq curl)
    command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi
echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Never let package scripts start system-wide database services.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
