#!/usr/bin/env bash
# Proves the container path with a real container, no registry needed:
# installs podman, runc and debootstrap from apt; makes the Debian trixie base
# image with debootstrap when it is not cached; builds the Containerfile; runs
# its default command (nslab up && nslab check && nslab down), then the same
# for labs/course-dns.yaml (pods, a Service, DNS), with
# `--privileged --network none`; and asserts that the host's namespaces,
# links, addresses, routes, iptables and nft rules are byte-identical after
# all of it (scripts/container/host-snapshot.sh). Exits with the container's
# status (1 if the host changed). A command given runs instead of the
# image's default one, e.g. `nslab up labs/course-dns.yaml && nslab check ...`
# through sh -c.
# podman uses a configuration and storage of its own (scripts/container/),
# kept in $NSLAB_CT_DIR (/var/lib/nslab-ci) so warm runs reuse the base
# image and the build's layers.
# usage: sudo scripts/container-test.sh [COMMAND [ARGS...]]
# Labs elsewhere on the machine change the host's namespaces: run it when no
# other lab is up (the test suite's lock: flock /tmp/nslab-integration.lock).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ "$(id -u)" -ne 0 ]; then
  echo "container-test.sh runs a privileged container: run it as root" >&2
  exit 1
fi
say() { echo "container-test: $*"; }
start=$SECONDS

missing=()
for tool in podman runc debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# shellcheck source=scripts/container/env.sh
source scripts/container/env.sh
work=$(mktemp -d)
# From before the base image and the build to after the run: none of it may
# touch the root network namespace.
scripts/container/host-snapshot.sh >"$work/before"
name="nslab-ci-$$"
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  "${podman[@]}" rm --force --ignore "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

t=$SECONDS
scripts/container/base-image.sh
base_s=$((SECONDS - t))

# The build's RUN steps fetch Debian packages and npm packages: they use the
# host's network stack (podman's bridge would add NETAVARK chains and turn on
# ip_forward in the root namespace). They run with podman's default
# capabilities, without CAP_NET_ADMIN: they cannot change it.
build() {
  "${podman[@]}" build --pull=never --network host --layers \
    --build-arg BASE="$NSLAB_BASE_IMAGE" -f Containerfile "$@" . >>"$work/build.log" 2>&1 || {
    tail -40 "$work/build.log" >&2
    say "the image did not build"
    exit 1
  }
}
t=$SECONDS
echo "==> podman build $NSLAB_IMAGE"
# The build stage gets a name of its own so that pruning the layers of
# replaced images keeps its cache (npm ci, the compiler) for the next run.
build --target build -t "$NSLAB_IMAGE-build"
build -t "$NSLAB_IMAGE"
build_s=$((SECONDS - t))
"${podman[@]}" image prune --force >/dev/null

# --network none: the lab builds its own namespaces and must not reach the
# root one (never --network host). --timeout bounds a hung lab (seconds).
rc=0
run() {
  echo "==> podman run --privileged --network none $NSLAB_IMAGE $*"
  "${podman[@]}" run --rm --name "$name" --privileged --network none --timeout 600 "$NSLAB_IMAGE" "$@" || {
    local status=$?
    [ "$rc" -ne 0 ] || rc=$status
  }
}
t=$SECONDS
if [ $# -gt 0 ]; then
  run "$@"
  what="$*"
else
  # The image's default command (the default lab: nodes and a host), then a
  # lab with pods, a Service through kube-proxy's iptables rules and cluster
  # DNS, so the rules a lab writes are proven to stay in the container.
  run
  dns='labs/course-dns.yaml'
  run sh -c "nslab up $dns && nslab check $dns && nslab down $dns"
  what="nslab up && nslab check && nslab down, of the default lab and of $dns,"
fi
run_s=$((SECONDS - t))
scripts/container/host-snapshot.sh >"$work/after"

size=$("${podman[@]}" image inspect --format '{{.Size}}' "$NSLAB_IMAGE")
say "image $NSLAB_IMAGE $((size / 1000000)) MB; base ${base_s}s, build ${build_s}s, run ${run_s}s, total $((SECONDS - start))s"
if ! diff -u "$work/before" "$work/after" >"$work/host.diff"; then
  cat "$work/host.diff" >&2
  say "the host's network state changed during the build or the run (above)"
  [ "$rc" -ne 0 ] || rc=1
else
  say "host namespaces, links, addresses, routes, iptables and nft rules: byte-identical after build and run"
fi
if [ "$rc" -eq 0 ]; then
  say "passed: $what in a privileged container"
else
  say "failed: exit $rc"
fi
exit "$rc"
