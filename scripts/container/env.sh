# shellcheck shell=bash disable=SC2034  # variables for the scripts that source it
# Sourced by the container scripts: podman with a configuration, registries
# and storage of its own instead of the machine's (/etc/containers,
# /var/lib/containers/storage), kept under $NSLAB_CT_DIR so the base image and
# the build's layers are reused from one run to the next.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NSLAB_CT_DIR=${NSLAB_CT_DIR:-/var/lib/nslab-ci}
NSLAB_CT_RUN=/run/nslab-ci
NSLAB_BASE_IMAGE=${NSLAB_BASE_IMAGE:-localhost/nslab-base:trixie}
NSLAB_IMAGE=${NSLAB_IMAGE:-localhost/nslab:ci}
mkdir -p "$NSLAB_CT_DIR" "$NSLAB_CT_RUN"
# Paths are absolute, so this file is written per machine rather than kept in git.
cat >"$NSLAB_CT_DIR/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$NSLAB_CT_DIR/storage"
runroot = "$NSLAB_CT_RUN/storage"
CONF
cat >"$NSLAB_CT_DIR/registries.conf" <<CONF
unqualified-search-registries = []
CONF
export CONTAINERS_CONF="$here/containers.conf"
export CONTAINERS_STORAGE_CONF="$NSLAB_CT_DIR/storage.conf"
export CONTAINERS_REGISTRIES_CONF="$NSLAB_CT_DIR/registries.conf"
# podman keeps its own state (libpod database, events, exits) in tmp_dir and
# under graphroot; tmp_dir is set here because containers.conf cannot hold
# a path that depends on $NSLAB_CT_RUN.
podman=(podman --tmpdir "$NSLAB_CT_RUN/libpod")
