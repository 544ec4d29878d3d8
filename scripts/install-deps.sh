#!/usr/bin/env bash
# Installs everything Congruent and its tests need on a fresh Debian (bookworm) machine, as root:
# the real services the components drive, the supervisor, Nix for interop tests, and the npm
# packages (exactly as locked). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  nginx-light   # the nginx component (nginx -t validates, s6 supervises)
  s6            # the supervisor where systemd is not PID 1
  systemd-container  # systemd-nspawn: tests boot a real systemd as PID 1 for the systemd backend (no recommends: libnss-mymachines would edit nsswitch.conf)
  nix-bin       # interop: store paths must equal nix-store --add's
  postgresql    # the postgresql component and the directory's fleet storage (real servers in tests)
  redis-server  # the redis component (tests run real servers on loopback)
  memcached     # the memcached component
  gcc           # userscan tests build an ELF with an RPATH into the store
  g++           # node-gyp links userscan's native reader (built by npm ci; without it, the TypeScript reader)
  make          # node-gyp's build of that reader
  ripgrep       # userscan's benchmark reference
  curl          # the demo talks to nginx
  openssl       # TLS tests make their own CA and the directory's certificates
  chromium      # web pages (migrate report --html) are tested in a real browser (playwright-core)
  nftables      # migrate verify sends nginx's upstream traffic to stubs, inside its own network namespace
  faketime      # the infra suite runs one host's agent with its clock hours off (libfaketime)
)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "install-deps: run as root to install: ${missing[*]}" >&2; exit 1; }
  apt-get update -q
  # Installing nginx starts Debian's own nginx on :80 where an init system runs; we never use it.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
npm ci --no-audit --no-fund
npm run build
