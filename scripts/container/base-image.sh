#!/usr/bin/env bash
# Makes the base image $NSLAB_BASE_IMAGE (Debian trixie, minbase) with
# debootstrap from the machine's own Debian mirror and imports it into the
# container test's storage; does nothing when it is already there. No
# container registry is needed. Run as root, with env.sh sourced or not.
# usage: scripts/container/base-image.sh
set -euo pipefail
# shellcheck source=scripts/container/env.sh
source "$(dirname "$0")/env.sh"

if "${podman[@]}" image exists "$NSLAB_BASE_IMAGE"; then
  echo "==> base image $NSLAB_BASE_IMAGE: cached"
  exit 0
fi

{ read -r found_mirror; read -r found_security; } < <("$(dirname "$0")/debian-mirror.sh")
mirror=${NSLAB_DEBIAN_MIRROR:-$found_mirror}
security=${NSLAB_DEBIAN_SECURITY:-$found_security}
if [ -z "$mirror" ]; then
  mirror=http://deb.debian.org/debian
  echo "note: no Debian archive in this machine's apt sources; using $mirror (set NSLAB_DEBIAN_MIRROR)" >&2
fi
mirror=${mirror%/}

rootfs=$(mktemp -d "$NSLAB_CT_DIR/rootfs.XXXXXX")
trap 'rm -rf "$rootfs" "$rootfs.log"' EXIT
echo "==> debootstrap trixie from $mirror"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
debootstrap --variant=minbase --keyring="$keyring" trixie "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
  tail -20 "$rootfs.log" >&2
  exit 1
}

# Apt as in Debian's slim images: no recommends, no docs, man pages or locales.
{
  echo "Types: deb"
  echo "URIs: $mirror"
  echo "Suites: trixie trixie-updates"
  echo "Components: main"
  echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
  if [ -n "$security" ]; then
    echo
    echo "Types: deb"
    echo "URIs: ${security%/}"
    echo "Suites: trixie-security"
    echo "Components: main"
    echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
  fi
} >"$rootfs/etc/apt/sources.list.d/debian.sources"
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/nslab-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
echo 'APT::Install-Recommends "false";' >"$rootfs/etc/apt/apt.conf.d/90nslab-no-recommends"
# No init in a container: package scripts must not start services (nginx).
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod +x "$rootfs/usr/sbin/policy-rc.d"
find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
  "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
# debootstrap copies the machine's name and resolver in; podman provides both.
rm -f "$rootfs/etc/resolv.conf" "$rootfs/etc/hostname"
# Package traffic may pass through a proxy with its own certificate authority:
# the machine's CA bundle goes into the image and Node (npm) trusts it too.
ca=/usr/local/share/nslab/host-ca.crt
changes=(--change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" --change 'CMD ["bash"]')
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "$rootfs$(dirname "$ca")"
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs$ca"
  changes+=(--change "ENV NODE_EXTRA_CA_CERTS=$ca")
fi

echo "==> podman import $NSLAB_BASE_IMAGE"
tar -C "$rootfs" --numeric-owner -c . | "${podman[@]}" import --quiet "${changes[@]}" - "$NSLAB_BASE_IMAGE" >/dev/null
