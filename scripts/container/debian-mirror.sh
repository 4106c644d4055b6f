#!/usr/bin/env bash
# Prints the Debian archive this machine's apt uses, and on a second line its
# security archive (empty when none): the first entry for the machine's own
# release (CODENAME, CODENAME-updates; CODENAME-security). Reads one-line
# "deb [options] URI SUITE..." lists and deb822 "URIs:/Suites:" stanzas, so
# the base image comes from the mirror the machine is allowed to reach.
# usage: scripts/container/debian-mirror.sh [ROOT]   (ROOT: / unless testing)
set -euo pipefail
root=${1:-}
apt_dir="$root/etc/apt"

entries() {
  local f
  for f in "$apt_dir/sources.list" "$apt_dir"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # "deb [arch=amd64 signed-by=...] URI SUITE COMPONENTS": skip the options.
    awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                       print $i, $(i + 1) }' "$f"
  done
  for f in "$apt_dir"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'function flush(  s) { if (deb && uri != "") for (s = 1; s <= n; s++) print uri, suite[s]; deb = 0; uri = ""; n = 0 }
         /^[[:space:]]*#/ { next }
         /^[[:space:]]*$/ { flush(); next }
         tolower($1) == "types:" { deb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/) }
         tolower($1) == "uris:" { uri = $2 }
         tolower($1) == "suites:" { for (i = 2; i <= NF; i++) suite[++n] = $i }
         END { flush() }' "$f"
  done
}

codename=$(grep -m1 '^VERSION_CODENAME=' "$root/etc/os-release" 2>/dev/null | cut -d= -f2 | tr -d "\"'" || true)
list=$(entries)
mirror=$(awk -v c="$codename" '$2 == c || $2 == c "-updates" { print $1; exit }' <<<"$list")
security=$(awk -v c="$codename" '$2 == c "-security" || $2 == c "/updates" { print $1; exit }' <<<"$list")
echo "${mirror%/}"
echo "${security%/}"
