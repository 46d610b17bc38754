#!/bin/bash
# loopnfs kernel tier: in-guest driver.  Runs as PID 1 after the initramfs
# switch_root()s into the overlay (host root over 9p + tmpfs).  Sets up the
# guest, runs the phases, prints "KTIER-GUEST-STATUS: done ..." and powers
# off.  Parameters come from params.sh on the "ktout" 9p share, written by
# run.sh; logs go to that share too.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C HOME=/root TERM=dumb
exec < /dev/null > /dev/console 2>&1
KT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

poweroff_now() {
    sync
    umount /kt 2>/dev/null
    echo o > /proc/sysrq-trigger
    sleep 30
}

# ------------------------------------------------------------ basic system
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# The checkout (with its build tree) may sit under a directory that gets the
# guest's own tmpfs below (CI clones into /tmp): hold it by a bind mount and
# put it back at the same path, so every path run.sh passes stays valid.
KT_REPO_DIR=$(cd "$KT_DIR/../.." && pwd)
mkdir -p /.ktrepo
mount --bind "$KT_REPO_DIR" /.ktrepo
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
# the servers' exported directories live on a plain tmpfs (not the overlay)
mount -t tmpfs -o mode=0755,size=80% tmpfs /srv
if [ ! -e "$KT_DIR/guest.sh" ]; then
    mkdir -p "$KT_REPO_DIR"
    mount --bind /.ktrepo "$KT_REPO_DIR"
fi
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
echo "KTIER-BOOTED uptime=$(cut -d' ' -f1 /proc/uptime)"

mkdir -p /kt
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 ktout /kt; then
    echo "KTIER-GUEST-STATUS: setup-failed cannot mount ktout share"
    poweroff_now
fi
. /kt/params.sh

# Everything below is also logged to the share.
main() {
    set -u
    . "$KT_DIR/lib.sh"
    echo "== guest setup (kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) MiB)"

    # Network: loopback plus qemu user-net on eth0, *without* a default
    # route, so the guest can reach only itself and the host (10.0.2.2).
    hostname ktguest
    cat > /etc/hosts <<'EOF'
127.0.0.1	localhost
127.0.1.1	ktguest
::1		localhost ip6-localhost ip6-loopback
EOF
    : > /etc/resolv.conf
    ip link set lo up
    eth=$(ls /sys/class/net | grep -v '^lo$' | head -1)
    if [ -n "$eth" ]; then
        ip link set "$eth" up
        ip addr add 10.0.2.15/24 dev "$eth"
    fi

    # /lib/modules of the guest kernel comes from the host root; regenerate
    # the module index into the overlay only if it is missing.
    if [ ! -f "/lib/modules/$(uname -r)/modules.dep" ]; then
        depmod -a
    fi

    # Two unprivileged users sharing a group.
    groupadd -g 2000 ktshare
    useradd -M -d /tmp -s /bin/bash -u 2001 -U -G ktshare ktuser1
    useradd -M -d /tmp -s /bin/bash -u 2002 -U -G ktshare ktuser2

    echo "== phase infra"
    check infra-network-eth0 ip -4 addr show dev "${eth:-eth0}"
    check infra-modprobe-nfs modprobe nfs
    check infra-modprobe-nfsv3 modprobe nfsv3
    check infra-users bash -c 'id ktuser1 && id ktuser2 && id -Gn ktuser2 | grep -qw ktshare'

    mkdir -p /run/rpcbind /var/lib/nfs/sm /var/lib/nfs/sm.bak
    chown _rpc: /run/rpcbind 2>/dev/null || true
    rpcbind -w
    check infra-rpcbind wait_for 20 rpcinfo -p localhost
    chown statd: /var/lib/nfs/sm /var/lib/nfs/sm.bak /var/lib/nfs/state 2>/dev/null || true
    rpc.statd --no-notify
    check infra-statd wait_for 20 sh -c 'rpcinfo -p localhost | grep -q status'
    if [ "$KT_INFRA_ONLY" = 1 ]; then
        return 0
    fi

    local rc=0
    . "$KT_DIR/phases.sh"
    run_phases
}

t0=$(date +%s)
main 2>&1 | tee /kt/guest.log
t1=$(date +%s)
echo "KTIER-GUEST-STATUS: done guest-seconds=$((t1 - t0))"
poweroff_now
