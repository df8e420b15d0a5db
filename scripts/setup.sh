#!/usr/bin/env bash
# Installs what tcpscope needs on a Debian machine with Node 20 and builds it: system packages
# (libpcap headers for the capture binding, tcpdump/tshark for tests and benchmarks) when missing,
# then the npm dependencies. Safe to run again: it does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# `setup.sh --test` also installs what the test suite drives: a real browser for the dashboard tests
# and docker-compose to validate the compose file.
packages=(libpcap-dev tcpdump tshark)
if [ "${1:-}" = "--test" ]; then packages+=(chromium fonts-dejavu-core docker-compose); fi

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for p in "${packages[@]}"; do
  have_pkg "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "setup: installing system packages: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer no without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm dependencies (and the build, through `prepare`) when missing or older than the lock file.
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies" >&2
  npm ci --no-audit --no-fund --loglevel=error
elif [ ! -f dist/cli.js ] || [ -n "$(find src -newer dist/cli.js -name '*.ts' -print -quit 2>/dev/null)" ]; then
  npm run --silent build
fi

# Some npm versions skip install scripts unless approved; the capture binding must be patched
# (patches/) and built. scripts/postinstall.mjs does both, and nothing when both are done.
if ! node -e "if (typeof require('cap').Cap.prototype.stats !== 'function') process.exit(1)" >/dev/null 2>&1; then
  echo "setup: patching and building the libpcap binding (cap)" >&2
  node scripts/postinstall.mjs
fi
