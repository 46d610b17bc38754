#!/bin/bash
# loopnfs kernel-client test tier (host side).
#
# Boots Debian's linux-image-amd64 kernel under qemu-system-x86_64 (TCG),
# with the host's root filesystem shared read-only over virtio-9p and a
# tmpfs overlay on top, so the guest runs the binaries just built on the
# host.  Networking is qemu's user-mode network only.  The guest runs
# tests/kernel/guest.sh, which prints PASS/FAIL lines and a final status
# marker on the serial console; this script parses them.
#
# usage: tests/kernel/run.sh [--build BUILD_DIR] [--timeout SECS]
#                            [--infra-only] [--phases LIST] [--quick]
#
#   --build DIR     build directory holding loopnfsd (default:
#                   $LOOPNFS_BUILD_DIR, else build)
#   --timeout SECS  hard timeout for the whole guest run (default: 1500)
#   --infra-only    only boot and check the guest infrastructure
#                   (modprobe nfs, rpcbind, statd, network); no loopnfsd
#   --phases LIST   comma-separated subset of guest phases to run
#                   (infra,guest,host,sync,restart,sparse,multi,crossmnt;
#                   default: all)
#   --quick         smaller data sizes (for iterating on the tier itself)
#   --server CMD    server executable to test instead of BUILD/loopnfsd
#                   (must follow loopnfsd's command-line contract), e.g.
#                   tests/kernel/ganesha-as-loopnfsd.sh to validate the tier
#                   against nfs-ganesha
#
# Environment: KT_OUT=DIR puts logs/cache there instead of BUILD/kernel-tier
# (must not be under /tmp: the guest mounts its own /tmp); KT_MEM=MiB;
# KT_TREE=PATH (tree for cp -a, default /usr/include/linux);
# KT_BIGDIR_CLIENT=N (entries of the 20,000 created through the mount);
# KT_SPARSE_FULL=1 (also read all 2 GiB of the sparse file back: +5 min).
#
# Exit: 0 all checks passed, 1 a check failed / the guest did not finish,
#       77 skipped (qemu or the kernel is not installed) -- loudly.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${LOOPNFS_BUILD_DIR:-build}
TIMEOUT=1500
INFRA_ONLY=0
PHASES=all
QUICK=0
SERVER=
while [ $# -gt 0 ]; do
    case "$1" in
        --build) BUILD=$2; shift 2 ;;
        --build=*) BUILD=${1#--build=}; shift ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --timeout=*) TIMEOUT=${1#--timeout=}; shift ;;
        --infra-only) INFRA_ONLY=1; shift ;;
        --phases) PHASES=$2; shift 2 ;;
        --phases=*) PHASES=${1#--phases=}; shift ;;
        --quick) QUICK=1; shift ;;
        --server) SERVER=$2; shift 2 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac

T0=$(date +%s)
log() { echo "kernel-tier: $*"; }

skip() {
    {
        echo
        echo "############################################################"
        echo "KERNEL TIER SKIPPED: $*"
        echo "(install with: bash scripts/setup.sh --kernel, or"
        echo " apt-get install -y qemu-system-x86 linux-image-amd64 busybox-static rpcbind nfs-common)"
        echo "############################################################"
        echo
    } | tee /dev/stderr
    exit 77
}

# ---------------------------------------------------------------- prerequisites
QEMU=$(command -v qemu-system-x86_64 || true)
[ -n "$QEMU" ] || skip "qemu-system-x86_64 not installed (package qemu-system-x86)"

# Newest Debian kernel with a matching module tree.
KVER=
for k in $(ls -1 /boot/ 2>/dev/null | sed -n 's/^vmlinuz-//p' | sort -V -r); do
    if [ -r "/boot/vmlinuz-$k" ] && [ -f "/lib/modules/$k/modules.dep" ] \
        && [ -d "/lib/modules/$k/kernel/fs/nfs" ]; then
        KVER=$k
        break
    fi
done
[ -n "$KVER" ] || skip "no /boot/vmlinuz-* with /lib/modules/<ver>/modules.dep and NFS modules (package linux-image-amd64)"
KERNEL=/boot/vmlinuz-$KVER

BUSYBOX=
for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then BUSYBOX=$b; break; fi
done
[ -n "$BUSYBOX" ] || skip "no statically linked busybox (package busybox-static)"

for t in rpcbind rpc.statd mount.nfs; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || [ -x "/sbin/$t" ] \
        || skip "$t not installed (packages rpcbind, nfs-common)"
done

if [ $EUID -ne 0 ]; then
    skip "must run as root (qemu 9p passthrough of / and a root-run host server)"
fi

LOOPNFSD=${SERVER:-"$BUILD/loopnfsd"}
case "$LOOPNFSD" in /*) ;; *) LOOPNFSD="$(pwd)/$LOOPNFSD" ;; esac
if [ $INFRA_ONLY -eq 0 ] && [ "$PHASES" != selftest ] && [ ! -x "$LOOPNFSD" ]; then
    echo "kernel-tier: FAIL: $LOOPNFSD not built (run scripts/build.sh first, or use --infra-only)"
    echo "0 passed, 1 failed"
    exit 1
fi

OUT=${KT_OUT:-"$BUILD/kernel-tier"}
CACHE="$OUT/cache"
RUN="$OUT/run"
mkdir -p "$CACHE"
rm -rf "$RUN"
mkdir -p "$RUN"
chmod 0777 "$RUN"

# ---------------------------------------------------------------- initramfs
# Rebuilt when the kernel, busybox or initramfs-init changes.
KEY=$( { echo "$KVER"; sha256sum "$BUSYBOX" "$ROOT/tests/kernel/initramfs-init"; } | sha256sum | cut -c1-16)
INITRD="$CACHE/initramfs-$KVER-$KEY.cpio.gz"
MODS="virtio_pci virtio_net 9pnet_virtio 9p overlay virtio_rng"
if [ ! -s "$INITRD" ]; then
    log "building initramfs for $KVER"
    rm -f "$CACHE"/initramfs-*.cpio.gz
    stage=$(mktemp -d "$CACHE/stage.XXXXXX")
    mkdir -p "$stage/bin" "$stage/modules" "$stage/dev" "$stage/proc" "$stage/sys"
    cp "$BUSYBOX" "$stage/bin/busybox"
    cp "$ROOT/tests/kernel/initramfs-init" "$stage/init"
    chmod 0755 "$stage/init" "$stage/bin/busybox"
    : > "$stage/modules/order"
    for m in $MODS; do
        # Prints "insmod /path.ko" for each dependency then the module;
        # "builtin ..." lines are skipped.
        deps=$(modprobe -S "$KVER" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}')
        if [ -z "$deps" ]; then
            modprobe -S "$KVER" --show-depends "$m" 2>/dev/null | grep -q '^builtin' \
                || { echo "kernel-tier: cannot resolve module $m for $KVER" >&2; exit 1; }
        fi
        for ko in $deps; do
            base=$(basename "$ko")
            case "$base" in
                *.ko.xz) out=${base%.xz}; [ -f "$stage/modules/$out" ] || xz -dc "$ko" > "$stage/modules/$out" ;;
                *.ko.zst) out=${base%.zst}; [ -f "$stage/modules/$out" ] || zstd -qdc "$ko" > "$stage/modules/$out" ;;
                *.ko.gz) out=${base%.gz}; [ -f "$stage/modules/$out" ] || gzip -dc "$ko" > "$stage/modules/$out" ;;
                *) out=$base; [ -f "$stage/modules/$out" ] || cp "$ko" "$stage/modules/$out" ;;
            esac
            grep -qx "$out" "$stage/modules/order" || echo "$out" >> "$stage/modules/order"
        done
    done
    if command -v cpio >/dev/null 2>&1; then
        (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 > "$INITRD.tmp"
    else
        (cd "$stage" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc) | gzip -1 > "$INITRD.tmp"
    fi
    mv "$INITRD.tmp" "$INITRD"
    rm -rf "$stage"
fi

# ---------------------------------------------------------------- host server
HOSTPID=
HOSTPORT=0
HOSTMPORT=0
cleanup() {
    if [ -n "${TAILPID:-}" ]; then kill "$TAILPID" 2>/dev/null; fi
    if [ -n "${QPID:-}" ] && kill -0 "$QPID" 2>/dev/null; then
        kill "$QPID" 2>/dev/null; sleep 2; kill -9 "$QPID" 2>/dev/null
    fi
    if [ -n "$HOSTPID" ] && kill -0 "$HOSTPID" 2>/dev/null; then
        kill "$HOSTPID" 2>/dev/null; sleep 1; kill -9 "$HOSTPID" 2>/dev/null
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

want_phase() { [ "$PHASES" = all ] || case ",$PHASES," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

if [ $INFRA_ONLY -eq 0 ] && want_phase host && [ -x "$LOOPNFSD" ]; then
    HOSTDIR="$OUT/hostdir"
    rm -rf "$HOSTDIR"
    mkdir -p "$HOSTDIR"
    chmod 0755 "$HOSTDIR"
    : > "$RUN/host-server.out"
    "$LOOPNFSD" --listen 127.0.0.1 --port 0 --no-rpcbind --no-root-squash "$HOSTDIR" \
        > "$RUN/host-server.out" 2> "$RUN/host-server.log" < /dev/null &
    HOSTPID=$!
    for _ in $(seq 1 100); do
        HOSTPORT=$(sed -n 's/.*port=\([0-9][0-9]*\).*/\1/p' "$RUN/host-server.out" | head -1)
        HOSTMPORT=$(sed -n 's/.*mountport=\([0-9][0-9]*\).*/\1/p' "$RUN/host-server.out" | head -1)
        [ -n "$HOSTPORT" ] && break
        kill -0 "$HOSTPID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$HOSTPORT" ]; then
        log "host loopnfsd did not report port=N; stderr:"
        sed 's/^/  host-server: /' "$RUN/host-server.log" | tail -20
        HOSTPORT=0
    else
        HOSTMPORT=${HOSTMPORT:-$HOSTPORT}
        log "host loopnfsd pid $HOSTPID on 127.0.0.1:$HOSTPORT serving $HOSTDIR"
    fi
fi

# ---------------------------------------------------------------- guest params
cat > "$RUN/params.sh" <<EOF
# written by tests/kernel/run.sh
KT_REPO='$ROOT'
KT_BUILD='$BUILD'
KT_LOOPNFSD='$LOOPNFSD'
KT_INFRA_ONLY=$INFRA_ONLY
KT_PHASES='$PHASES'
KT_QUICK=$QUICK
KT_HOSTPORT=$HOSTPORT
KT_HOSTMPORT=${HOSTMPORT:-0}
KT_HOSTDIR='${HOSTDIR:-}'
EOF
# optional tuning knobs, passed through to the guest
for v in KT_TREE KT_BIGDIR_CLIENT KT_SPARSE_FULL; do
    [ -n "${!v:-}" ] && echo "export $v='${!v}'" >> "$RUN/params.sh"
done

# ---------------------------------------------------------------- boot
CONSOLE="$OUT/console.log"
: > "$CONSOLE"
MEM=${KT_MEM:-4096}
APPEND="console=ttyS0 panic=-1 quiet loglevel=3 8250.nr_uarts=1 ktinit=$ROOT/tests/kernel/guest.sh"
log "booting $KERNEL (TCG, $MEM MiB, 2 vCPUs), timeout ${TIMEOUT}s, console -> $CONSOLE"
QT0=$(date +%s.%N)
"$QEMU" -name loopnfs-kernel-tier \
    -machine pc -accel tcg,thread=multi -cpu max -smp 2 -m "$MEM" \
    -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND" \
    -display none -monitor none -serial "file:$CONSOLE" -no-reboot \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$RUN,mount_tag=ktout,security_model=none,multidevs=remap" \
    -netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
    -device virtio-rng-pci \
    < /dev/null > "$OUT/qemu.log" 2>&1 &
QPID=$!

# Stream the interesting console lines while the guest runs.
tail -n +1 -F "$CONSOLE" 2>/dev/null | grep --line-buffered -E '^(PASS|FAIL|SKIP|INFO|==|KTIER-|ktinit:)' &
TAILPID=$!

BOOT_S=
TIMED_OUT=0
while kill -0 "$QPID" 2>/dev/null; do
    if [ -z "$BOOT_S" ] && grep -q '^KTIER-BOOTED' "$CONSOLE" 2>/dev/null; then
        BOOT_S=$(awk -v a="$(date +%s.%N)" -v b="$QT0" 'BEGIN{printf "%.1f", a - b}')
    fi
    now=$(date +%s)
    if [ $((now - T0)) -ge "$TIMEOUT" ]; then
        TIMED_OUT=1
        log "HARD TIMEOUT after ${TIMEOUT}s: killing qemu (pid $QPID)"
        kill "$QPID" 2>/dev/null; sleep 3; kill -9 "$QPID" 2>/dev/null
        break
    fi
    sleep 1
done
wait "$QPID" 2>/dev/null
QRC=$?
sleep 0.5
kill "$TAILPID" 2>/dev/null
wait "$TAILPID" 2>/dev/null
TAILPID=

if [ -n "$HOSTPID" ] && kill -0 "$HOSTPID" 2>/dev/null; then
    kill "$HOSTPID" 2>/dev/null
    wait "$HOSTPID" 2>/dev/null
fi
HOSTPID=

# ---------------------------------------------------------------- results
npass=$(grep -c "^PASS " "$CONSOLE" 2>/dev/null); npass=${npass:-0}
nfail=$(grep -c "^FAIL " "$CONSOLE" 2>/dev/null); nfail=${nfail:-0}
nskip=$(grep -c "^SKIP " "$CONSOLE" 2>/dev/null); nskip=${nskip:-0}
status=$(sed -n 's/^KTIER-GUEST-STATUS: //p' "$CONSOLE" | tail -1 | tr -d '\r')
guest_boot=$(sed -n 's/^KTIER-BOOTED uptime=\([0-9.]*\).*/\1/p' "$CONSOLE" | head -1 | tr -d '\r')
T1=$(date +%s)

echo
log "kernel $KVER, qemu exit $QRC, guest status: ${status:-<none>}"
[ -n "$BOOT_S" ] && log "boot time: ${BOOT_S}s from qemu start to guest driver (guest uptime ${guest_boot:-?}s)"
log "tier duration: $((T1 - T0))s"
if [ "$nfail" -gt 0 ]; then
    log "failed checks:"
    grep '^FAIL ' "$CONSOLE" | tr -d '\r' | sed 's/^/  /'
fi
if [ -s "$RUN/host-server.log" ]; then
    log "host loopnfsd log: $RUN/host-server.log"
fi
log "full console log: $CONSOLE; guest logs: $RUN/"

ok=1
if [ $TIMED_OUT -eq 1 ]; then
    echo "FAIL kernel-tier-timeout"
    nfail=$((nfail + 1)); ok=0
elif [ "${status%% *}" != "done" ]; then
    echo "FAIL kernel-tier-guest-did-not-finish (${status:-no status marker}; see $CONSOLE)"
    tail -30 "$CONSOLE" | tr -d '\r' | sed 's/^/  console: /'
    nfail=$((nfail + 1)); ok=0
fi
[ "$nfail" -eq 0 ] || ok=0
if [ "$npass" -eq 0 ] && [ $ok -eq 1 ]; then
    echo "FAIL kernel-tier-no-checks-ran"
    nfail=1; ok=0
fi
echo "kernel-tier: $npass passed, $nfail failed, $nskip skipped"
echo "$npass passed, $nfail failed"
[ $ok -eq 1 ] && exit 0 || exit 1
