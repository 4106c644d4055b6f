#!/usr/bin/env bash
# Runs a command the way a container runtime would start it: in fresh mount,
# PID and network namespaces, with a private /run and only loopback (brought
# up, as a runtime does). Used by the tests to prove nslab works there.
# usage: sudo scripts/in-container.sh CMD [ARGS...]
set -euo pipefail
if [ "${NSLAB_IN_CONTAINER:-}" != 1 ]; then
  exec unshare --mount --pid --net --fork --mount-proc --propagation private \
    env NSLAB_IN_CONTAINER=1 "$0" "$@"
fi
mount -t tmpfs -o mode=755 tmpfs /run
ip link set lo up
exec "$@"
