#!/usr/bin/env bash
# Installs everything nslab needs on Debian/Ubuntu, builds it and puts
# `nslab` on the PATH. Idempotent. Run as root: sudo ./scripts/setup.sh, or as
# root itself (a fresh container, with no sudo): ./scripts/setup.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh installs packages: run it as root (sudo ./scripts/setup.sh, or ./scripts/setup.sh as root)" >&2
  exit 1
fi

pkgs=(iproute2 iptables nftables ipvsadm ipset nfacct nginx-light curl iputils-ping dnsutils dnsmasq-base conntrack tcpdump procps util-linux kmod ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then missing+=(nodejs npm); fi
if ! command -v kubectl >/dev/null; then missing+=(kubernetes-client); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Only bench/dns-qps.ts needs dnsperf (Ubuntu has it in universe): a warning, not a failure.
if ! command -v dnsperf >/dev/null; then
  apt-get install -y -qq --no-install-recommends dnsperf >/dev/null 2>&1 ||
    echo "note: dnsperf is not installable here; only bench/dns-qps.ts needs it" >&2
fi
# Only `nslab graph -f svg` needs graphviz's dot: optional as well.
if ! command -v dot >/dev/null; then
  apt-get install -y -qq --no-install-recommends graphviz >/dev/null 2>&1 ||
    echo "note: graphviz is not installable here; only nslab graph -f svg needs it" >&2
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "nslab needs Node.js 20 or newer; this machine has $(node --version). Debian 13 and Ubuntu 24.10 ship it." >&2
  exit 1
fi
# nginx is run per pod by nslab; the distribution's system-wide instance is not needed.
if command -v systemctl >/dev/null && systemctl is-enabled nginx >/dev/null 2>&1; then
  systemctl disable --now nginx >/dev/null 2>&1 || true
fi

echo "==> npm ci && npm run build"
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
chmod +x dist/src/cli/main.js
ln -sf "$root/dist/src/cli/main.js" /usr/local/bin/nslab
# Root by sudo is told to use sudo; root itself (a container without sudo) is not.
if [ -n "${SUDO_USER:-}" ]; then next="sudo nslab up"; else next="nslab up"; fi
echo "==> nslab is $(command -v nslab); next: $next"
