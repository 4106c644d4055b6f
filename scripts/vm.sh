#!/usr/bin/env bash
# scripts/vm.sh CMD...: run CMD (from the current directory, as root) inside a
# qemu guest booting Debian's stock kernel, which has IP_VS and the dummy link
# type that this project's own machines lack; exit with CMD's status.
#
# The guest sees the host's / read-only over 9p with a tmpfs overlay on top
# (so node, kubectl, iptables, ipvsadm and the checkout are all there, and
# nothing it writes reaches the host except under VM_RW directories). The
# first run installs qemu, busybox-static and kmod with apt and unpacks the
# kernel package (apt-get download, no initramfs-tools, no host changes) into
# the cache; later runs boot in about 3 s. Facts and timings:
# ../shared/notes/qemu-ipvs.md.
#
# Environment: VM_CACHE (/var/cache/nslab-vm), VM_MEM (MiB, 2048), VM_SMP
# (nproc), VM_TIMEOUT (s, 600), VM_ACCEL (auto|kvm|tcg), VM_RW ("dir ..."
# mounted read-write at the same path), VM_KEEP_LOGS=1.
set -euo pipefail
if [ $# -eq 0 ]; then
  echo "usage: scripts/vm.sh CMD [ARG...]   (runs CMD as root in a guest with a stock Debian kernel)" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/vm.sh installs packages and runs qemu: run it as root (sudo ./scripts/vm.sh ...)" >&2
  exit 1
fi
SELF=$(dirname "$(readlink -f "$0")")/vm
CACHE=${VM_CACHE:-/var/cache/nslab-vm}
MEM=${VM_MEM:-2048}
SMP=${VM_SMP:-$(nproc)}
TIMEOUT=${VM_TIMEOUT:-600}
mkdir -p "$CACHE"

# 1. Host tools, once.
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v depmod >/dev/null || need+=(kmod)
if [ ${#need[@]} -gt 0 ]; then
  echo "vm.sh: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. The kernel: the image package unpacked into the cache, never installed.
if [ ! -e "$CACHE/kernel/.done" ]; then
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [ -n "$pkg" ] || { echo "vm.sh: apt-cache knows no linux-image-amd64 (run apt-get update)" >&2; exit 1; }
  echo "vm.sh: fetching $pkg" >&2
  rm -rf "$CACHE/kernel" "$CACHE/deb"
  mkdir -p "$CACHE/deb"
  (cd "$CACHE/deb" && apt-get download -qq -o APT::Sandbox::User=root "$pkg")
  dpkg-deb -x "$CACHE"/deb/"$pkg"_*.deb "$CACHE/kernel"
  rm -rf "$CACHE/deb"
  kver=$(ls "$CACHE/kernel/lib/modules")
  echo "$kver" > "$CACHE/kernel/kver"
  depmod -b "$CACHE/kernel" "$kver"
  # The uncompressed ELF boots through qemu's PVH entry, skipping the xz
  # decompressor that takes about 3 s under software emulation.
  python3 "$SELF/extract-vmlinux.py" "$CACHE/kernel/boot/vmlinuz-$kver" "$CACHE/kernel/vmlinux"
  touch "$CACHE/kernel/.done"
fi
KROOT=$CACHE/kernel
KVER=$(cat "$KROOT/kver")

# 3. The initramfs (busybox and the modules to mount 9p and overlay), rebuilt when its scripts change.
INITRD=$CACHE/initrd.gz
if [ ! -e "$INITRD" ] || [ "$SELF/init" -nt "$INITRD" ] || [ "$SELF/stage2" -nt "$INITRD" ]; then
  W=$(mktemp -d)
  mkdir -p "$W"/{bin,sbin,proc,sys,dev,run,tmp,"lib/modules/$KVER"}
  cp /bin/busybox "$W/bin/"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$W/bin/$a"; done
  ln -s ../bin/busybox "$W/sbin/modprobe"
  for m in crc32c_generic virtio_pci 9pnet_virtio 9p overlay; do
    modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}'
  done | sort -u | while read -r f; do
    rel=${f#"$KROOT/lib/modules/$KVER/"}
    mkdir -p "$W/lib/modules/$KVER/$(dirname "$rel")"
    cp "$f" "$W/lib/modules/$KVER/$rel"
  done
  cp "$KROOT/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$W/lib/modules/$KVER/"
  depmod -b "$W" "$KVER"
  install -m755 "$SELF/init" "$W/init"
  install -m755 "$SELF/stage2" "$W/stage2"
  (cd "$W" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
  rm -rf "$W"
fi

# 4. Real KVM only with VMX/SVM: a PVM-backed /dev/kvm (kvm_pvm) cannot run a stock kernel.
ACCEL=${VM_ACCEL:-auto}
if [ "$ACCEL" = auto ]; then
  if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then ACCEL=kvm; else ACCEL=tcg; fi
fi
if [ "$ACCEL" = kvm ]; then ACC=(-accel kvm -cpu host); else ACC=(-accel tcg,thread=multi -cpu max); fi
# Under software emulation everything is about 15 times slower: give the lab's control plane time.
[ "$ACCEL" = tcg ] && export NSLAB_READY_TIMEOUT_MS=${NSLAB_READY_TIMEOUT_MS:-180000}

# 5. The job: the command (with this environment and directory) and, afterwards, its status.
JOB=$(mktemp -d /tmp/nslab-vm.XXXXXX)
trap '[ -n "${VM_KEEP_LOGS:-}" ] && echo "vm.sh: logs in $JOB" >&2 || rm -rf "$JOB"' EXIT
{
  export -p | grep -vE '^declare -x (PWD|OLDPWD|SHLVL|HOSTNAME|TERM|_)='
  printf 'cd %q || exit 125\n' "$PWD"
  printf 'exec'
  printf ' %q' "$@"
  echo
} > "$JOB/cmd"
RW=()
n=0
for d in ${VM_RW:-}; do
  d=$(readlink -f "$d")
  n=$((n + 1))
  RW+=(-virtfs "local,path=$d,mount_tag=rw$n,security_model=none")
  echo "rw$n $d" >> "$JOB/mounts"
done

set +e
timeout "$TIMEOUT" qemu-system-x86_64 "${ACC[@]}" -smp "$SMP" -m "$MEM" \
  -machine pc -nodefaults -no-user-config -display none -no-reboot -nic none \
  -bios /usr/share/qemu/qboot.rom -kernel "$KROOT/vmlinux" -initrd "$INITRD" \
  -append "console=ttyS0 panic=-1 quiet mitigations=off" \
  -serial file:"$JOB/console.log" -serial stdio \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$KROOT/lib/modules",mount_tag=modules,security_model=none,readonly=on \
  -virtfs local,path="$JOB",mount_tag=job,security_model=none \
  "${RW[@]}" -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null
qrc=$?
set -e
if [ -s "$JOB/rc" ]; then
  rc=$(cat "$JOB/rc")
else
  [ "$qrc" -eq 124 ] && echo "vm.sh: the guest ran out of time (VM_TIMEOUT=$TIMEOUT s)" >&2
  echo "vm.sh: the guest reported no exit status (qemu exit $qrc); its console:" >&2
  tail -n 40 "$JOB/console.log" >&2 || true
  rc=124
fi
exit "$rc"
