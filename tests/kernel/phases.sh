# loopnfs kernel tier: the phases run in the guest (sourced by guest.sh,
# which has set up networking, users, rpcbind and rpc.statd).
#
# Phases (KT_PHASES, default all):
#   guest    loopnfsd in the guest, the literal `mount -t nfs localhost:/ /mnt`,
#            scenario suite as root, ktuser1 and ktuser2
#   sync     changes made directly in DIR vs the mount (noac, actimeo=2), both ways
#   squash   root squashing of a default-option server
#   restart  kill -9 + restart under load
#   host     loopnfsd on the host, mounted through qemu's user network (10.0.2.2)
#   sparse   2 GiB sparse file on both mounts
#   multi    (at the end, replaces the guest server) two DIRs under one
#            synthesized root: the literal mount, ls, cp -a into each export,
#            df of each submount, "..", the root read-only, umount
#   crossmnt a tmpfs mounted below DIR: the directory it covers by default;
#            with --crossmnt a submount of its own (device, find -xdev,
#            writes landing on it), its handles kept across a server restart
#   selftest (not in "all") the scenario suite on a local directory, to
#            validate the suite itself

GDIR=/srv/nfs          # the in-guest server's DIR (guest tmpfs overlay)
SRV_PIDFILE=/run/kt-loopnfsd.pid
SRV_LOG=/kt/guest-server.log
SRV_OUT=/kt/guest-server.out
# cp -a of all of /usr/include (~9,000 entries) takes over 6 minutes under
# TCG; the tier copies the /usr/include/linux subtree (~800 entries).
TREE=${KT_TREE:-/usr/include/linux}
QARG=; [ "$KT_QUICK" = 1 ] && QARG=--quick

want_phase() { [ "$KT_PHASES" = all ] || case ",$KT_PHASES," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
SCEN="$KT_DIR/scenarios.sh"

# Start the in-guest server; wait for its "port=N" line.
start_guest_server() {
    local outf=$1; shift
    : > "$outf"
    echo "--- start $(date +%T): $*" >> "$SRV_LOG"
    "$@" > "$outf" 2>> "$SRV_LOG" < /dev/null &
    local pid=$!
    echo $pid > "$SRV_PIDFILE"
    if wait_for 30 grep -q 'port=' "$outf"; then
        info "loopnfsd pid $pid: $(head -1 "$outf")"
        return 0
    fi
    info "loopnfsd did not report port=N; log tail: $(tail -5 "$SRV_LOG" | tr '\n' '|')"
    return 1
}

# mount with a time limit (a hung mount must not eat the whole tier)
tmount() { timeout 150 mount "$@"; }

# Print the server log tail if any check in this run failed so far.
server_log_hint() {
    if grep -q '^FAIL ' /kt/guest.log 2>/dev/null; then
        info "guest loopnfsd log tail:"
        tail -20 "$SRV_LOG" | sed 's/^/INFO   srv: /'
    fi
}

phase_selftest() {
    echo "== phase selftest (suite on a local directory)"
    mkdir -p /srv/local && chmod 0755 /srv/local
    bash "$SCEN" --mnt /srv/local --dir /srv/local --label local.root \
        --sections files,perms,bigdir,tree,git,concurrent,sparse --tree /usr/include/linux $QARG
    mkdir -p /srv/local/local.u1 && chown ktuser1: /srv/local/local.u1
    bash "$SCEN" --as ktuser1 --mnt /srv/local --dir /srv/local --label local.u1 --sections files,git,concurrent $QARG
}

# Start the in-guest loopnfsd (port 2049, registered with rpcbind) and do
# the literal mount, once; later phases reuse it.
ensure_guest_mount() {
    grep -q ' /mnt nfs' /proc/mounts && return 0
    mkdir -p "$GDIR" /mnt && chmod 0755 "$GDIR"
    start_guest_server "$SRV_OUT" "$KT_LOOPNFSD" "$GDIR" || {
        fail guest.server-start "see $SRV_LOG"; return 1; }
    check guest.rpcbind-registered bash -c 'rpcinfo -p localhost | grep -w 100003 | grep -qw 3 && rpcinfo -p localhost | grep -qw 100005'
    info "rpcinfo: $(rpcinfo -p localhost | awk '$1==100003||$1==100005{print $1"/"$2"/"$3"/"$4}' | tr '\n' ' ')"
    # THE literal mount, no options
    if check guest.mount-literal tmount -t nfs localhost:/ /mnt; then
        info "mount: $(grep ' /mnt ' /proc/mounts)"
        check guest.mount-is-nfsv3 bash -c "grep ' /mnt ' /proc/mounts | grep -q 'vers=3'"
    else
        # Fall back to explicit options so the rest of the suite still runs.
        info "literal mount failed; retrying with explicit v3/tcp options"
        check guest.mount-explicit-v3 tmount -t nfs -o vers=3,proto=tcp,mountproto=tcp localhost:/ /mnt || return 1
    fi
}

phase_guest() {
    echo "== phase guest (loopnfsd in the guest, literal mount)"
    ensure_guest_mount || return 1
    bash "$SCEN" --mnt /mnt --dir "$GDIR" --label g.root $QARG --tree "$TREE" \
        --sections files,perms,bigdir,tree,git,concurrent
    for u in ktuser1 ktuser2; do
        mkdir -p "/mnt/g.$u" && chown "$u:$u" "/mnt/g.$u"
    done
    # the two users run concurrently
    bash "$SCEN" --as ktuser1 --mnt /mnt --dir "$GDIR" --label g.ktuser1 $QARG --sections files,git,concurrent > /tmp/u1.out 2>&1 &
    local p1=$!
    bash "$SCEN" --as ktuser2 --mnt /mnt --dir "$GDIR" --label g.ktuser2 $QARG --sections files,git,concurrent > /tmp/u2.out 2>&1 &
    local p2=$!
    wait $p1 $p2
    cat /tmp/u1.out /tmp/u2.out
}

phase_sync() {
    echo "== phase sync (server-side changes <-> mount)"
    ensure_guest_mount || return
    mkdir -p /mnt-noac /mnt-ac
    check sync.mount-noac tmount -t nfs -o noac localhost:/ /mnt-noac || return
    check sync.mount-actimeo2 tmount -t nfs -o actimeo=2 localhost:/ /mnt-ac || return
    local S="$GDIR/sync" M=/mnt-noac/sync A=/mnt-ac/sync
    mkdir -p "$S"; echo v1 > "$S/f"; echo keep > "$S/g"; chmod 644 "$S/f"
    # prime the client's caches on both mounts
    cat "$M/f" "$A/f" "$M/g" "$A/g" > /dev/null; ls "$M" "$A" > /dev/null; stat "$M/f" "$A/f" > /dev/null
    sleep 1.1
    # server-side changes
    echo v2-longer > "$S/f"
    echo new > "$S/created"
    chmod 600 "$S/g"
    mkdir "$S/newdir"
    mv "$S/g" "$S/g-renamed"
    ln -s f "$S/sl"
    echo appended >> "$S/f"
    # noac: visible immediately
    eq sync.noac-content "$(cat "$M/f" 2>&1)" "$(printf 'v2-longer\nappended')"
    eq sync.noac-create "$(cat "$M/created" 2>&1)" "new"
    eq sync.noac-chmod "$(stat -c %a "$M/g-renamed" 2>&1)" "600"
    eq sync.noac-rename "$(test -e "$M/g" && echo old-still-there; cat "$M/g-renamed" 2>&1)" "keep"
    eq sync.noac-mkdir "$(stat -c %F "$M/newdir" 2>&1)" "directory"
    eq sync.noac-symlink "$(readlink "$M/sl" 2>&1)" "f"
    eq sync.noac-readdir "$(ls "$M" | tr '\n' ' ')" "created f g-renamed newdir sl "
    # attribute cache (actimeo=2): visible after the timeout
    check sync.ac-content wait_for 10 bash -c "test \"\$(cat '$A/f')\" = \"\$(printf 'v2-longer\nappended')\""
    check sync.ac-chmod wait_for 10 bash -c "test \"\$(stat -c %a '$A/g-renamed')\" = 600"
    check sync.ac-readdir wait_for 10 bash -c "test \"\$(ls '$A' | tr '\n' ' ')\" = 'created f g-renamed newdir sl '"
    # server-side delete: the client gets ENOENT (not ESTALE) on the next lookup
    rm "$S/created"
    eq sync.noac-delete "$(cat "$M/created" 2>&1 | grep -o 'No such file or directory')" "No such file or directory"
    echo data > "$S/rewrite"; cat "$M/rewrite" > /dev/null
    rm "$S/rewrite"; echo replaced > "$S/rewrite"
    eq sync.noac-replaced-file "$(cat "$M/rewrite" 2>&1)" "replaced"
    # same-size, same-second rewrite (only mtime nanoseconds/ctime differ)
    printf 'AAAA' > "$S/same"; cat "$M/same" > /dev/null; printf 'BBBB' > "$S/same"
    eq sync.noac-same-size-rewrite "$(cat "$M/same" 2>&1)" "BBBB"
    # and the other way: changes at the mount show up in DIR immediately
    echo from-client > /mnt/sync/c1
    eq sync.client-create "$(cat "$S/c1" 2>&1)" "from-client"
    echo more >> /mnt/sync/c1
    eq sync.client-append "$(cat "$S/c1" 2>&1)" "$(printf 'from-client\nmore')"
    mv /mnt/sync/c1 /mnt/sync/c2
    eq sync.client-rename "$(ls "$S" | grep -c '^c1$'):$(cat "$S/c2" 2>&1 | head -1)" "0:from-client"
    chmod 604 /mnt/sync/c2; chown 2001:2002 /mnt/sync/c2
    eq sync.client-chmod-chown "$(stat -c %a:%u:%g "$S/c2")" "604:2001:2002"
    touch -d '2005-05-05 05:05:05 UTC' /mnt/sync/c2
    eq sync.client-utimes "$(stat -c %Y "$S/c2")" "1115269505"
    ln /mnt/sync/c2 /mnt/sync/c3; ln -s c2 /mnt/sync/c4; mkdir /mnt/sync/cdir; mkfifo /mnt/sync/cfifo
    eq sync.client-link-symlink-mkdir-fifo "$(stat -c %h "$S/c2"):$(readlink "$S/c4"):$(stat -c %F "$S/cdir"):$(stat -c %F "$S/cfifo")" "2:c2:directory:fifo"
    truncate -s 3 /mnt/sync/c2
    eq sync.client-truncate "$(cat "$S/c2")" "fro"
    rm /mnt/sync/c3; rmdir /mnt/sync/cdir
    eq sync.client-remove "$(ls "$S" | grep -c '^c3$\|^cdir$')" "0"
    umount /mnt-noac /mnt-ac
    check sync.umount-extra-mounts bash -c "! grep -q ' /mnt-noac \| /mnt-ac ' /proc/mounts"
}

# Squashing.  loopnfsd treats root on the local host as root (everything
# through qemu's user network arrives from 127.0.0.1 too), so the default
# server must not squash the guest's root, while --all-squash maps everyone
# to the anonymous ids.
phase_squash() {
    echo "== phase squash (second instance with --all-squash)"
    local sq=/srv/nfs-squash port=2060 mport
    mkdir -p "$sq" /mnt-squash && chmod 0777 "$sq"
    echo secret > "$sq/rootonly"; chmod 600 "$sq/rootonly"
    "$KT_LOOPNFSD" --port $port --no-rpcbind --all-squash "$sq" > /tmp/squash.out 2>> /kt/squash-server.log < /dev/null &
    local pid=$!
    if ! wait_for 30 grep -q 'port=' /tmp/squash.out; then
        fail squash.server-start "$(tail -3 /kt/squash-server.log | tr '\n' '|')"; kill $pid; return
    fi
    mport=$(sed -n 's/.*mountport=\([0-9][0-9]*\).*/\1/p' /tmp/squash.out)
    check squash.mount tmount -t nfs -o vers=3,proto=tcp,port=$port,mountport=${mport:-$port},mountproto=tcp,nolock,retry=0 127.0.0.1:/ /mnt-squash || { kill $pid; return; }
    echo x > /mnt-squash/byroot
    eq squash.all-squash-root-is-anon "$(stat -c %u:%g "$sq/byroot" 2>&1)" "65534:65534"
    expect_err squash.all-squash-root-denied-0600 "Permission denied" cat /mnt-squash/rootonly
    as ktuser1 bash -c 'echo u > /mnt-squash/byuser'
    eq squash.all-squash-user-is-anon "$(stat -c %u:%g "$sq/byuser" 2>&1)" "65534:65534"
    umount /mnt-squash
    kill $pid; wait $pid 2>/dev/null
    # the main (default-option) server: local root stays root
    if grep -q ' /mnt nfs' /proc/mounts; then
        echo r > /mnt/squash-default-root
        eq squash.default-local-root-is-root "$(stat -c %u "$GDIR/squash-default-root" 2>&1)" "0"
        rm -f /mnt/squash-default-root
    fi
}

phase_restart() {
    echo "== phase restart (kill -9 under load, same port, hard mount)"
    ensure_guest_mount || return
    local mb=64; [ "$KT_QUICK" = 1 ] && mb=16
    KT_SERVER_PIDFILE=$SRV_PIDFILE KT_SERVER_LOG=$SRV_LOG KT_SERVER_OUT=$SRV_OUT \
        bash "$KT_DIR/restart.sh" /mnt "$GDIR" restart $mb -- "$KT_LOOPNFSD" "$GDIR"
}

phase_host() {
    echo "== phase host (loopnfsd on the host, via qemu user network 10.0.2.2)"
    if [ "${KT_HOSTPORT:-0}" = 0 ]; then
        fail host.server-start "host loopnfsd did not start (see host-server.log)"
        return
    fi
    mkdir -p /mnt-host
    check host.mount tmount -t nfs -o vers=3,proto=tcp,port=$KT_HOSTPORT,mountport=$KT_HOSTMPORT,mountproto=tcp,nolock,retry=0 10.0.2.2:/ /mnt-host || return
    info "mount: $(grep ' /mnt-host ' /proc/mounts)"
    bash "$SCEN" --mnt /mnt-host --label h.root $QARG --tree "$TREE" --sections files,perms,tree,git,concurrent
    mkdir -p /mnt-host/h.ktuser1 && chown ktuser1: /mnt-host/h.ktuser1
    bash "$SCEN" --as ktuser1 --mnt /mnt-host --label h.ktuser1 $QARG --sections files,concurrent
}

phase_sparse() {
    echo "== phase sparse (2 GiB sparse file)"
    if ensure_guest_mount; then
        bash "$SCEN" --mnt /mnt --dir "$GDIR" --label g.root $QARG --sections sparse
    fi
    if grep -q ' /mnt-host nfs' /proc/mounts; then
        bash "$SCEN" --mnt /mnt-host --label h.root --quick --sections sparse
    fi
}

# Two DIRs under one root, with the literal mount: the client crosses into
# each export as its own submount (as knfsd with crossmnt).
phase_multi() {
    echo "== phase multi (two DIRs under one root, literal mount)"
    local M=/mnt-multi P=/srv/multi/photos D=/srv/multi/docs
    # The literal mount needs port 2049: the single-DIR server steps aside.
    if grep -q ' /mnt nfs' /proc/mounts; then
        check multi.umount-single timeout 60 umount /mnt || umount -l /mnt
    fi
    if [ -f "$SRV_PIDFILE" ] && kill -0 "$(cat "$SRV_PIDFILE")" 2>/dev/null; then
        kill "$(cat "$SRV_PIDFILE")"; wait_for 20 bash -c "! kill -0 $(cat "$SRV_PIDFILE") 2>/dev/null"
    fi
    mkdir -p "$P" "$D" "$M" && chmod 0755 "$P" "$D"
    echo photo > "$P/p1"; echo doc > "$D/d1"
    start_guest_server /tmp/multi.out "$KT_LOOPNFSD" "$P" "$D" || {
        fail multi.server-start "see $SRV_LOG"; return; }
    check multi.mount-literal tmount -t nfs localhost:/ "$M" || return
    eq multi.ls-root "$(ls "$M" | tr '\n' ' ')" "docs photos "
    eq multi.read-through "$(cat "$M/photos/p1" "$M/docs/d1" | tr '\n' ' ')" "photo doc "
    # Each export is its own filesystem: a submount with its own device.
    local d_root d_p d_d
    d_root=$(stat -c %d "$M"); d_p=$(stat -c %d "$M/photos/."); d_d=$(stat -c %d "$M/docs/.")
    check multi.distinct-devices test "$d_root" != "$d_p" -a "$d_p" != "$d_d" -a "$d_root" != "$d_d"
    check multi.submounts bash -c "grep -q ' $M/photos nfs' /proc/mounts && grep -q ' $M/docs nfs' /proc/mounts"
    info "mounts: $(grep " $M" /proc/mounts | awk '{print $2"("$3")"}' | tr '\n' ' ')"
    eq multi.df-each "$(df --output=target "$M"/* | tail -n +2 | tr '\n' ' ')" "$M/docs $M/photos "
    eq multi.find-xdev "$(find "$M" -xdev | sort | tr '\n' ' ')" "$M $M/docs $M/photos "
    eq multi.dotdot "$(cd "$M/photos/.." && ls | tr '\n' ' ')" "docs photos "
    expect_err multi.root-read-only "Read-only file system" touch "$M/newfile"
    expect_err multi.root-mkdir-read-only "Read-only file system" mkdir "$M/newdir"
    # cp -a into each export lands in its DIR, byte for byte.
    check multi.cp-a-photos cp -a "$TREE" "$M/photos/tree"
    check multi.cp-a-docs cp -a "$TREE" "$M/docs/tree"
    check multi.cp-landed-photos diff -r "$TREE" "$P/tree"
    check multi.cp-landed-docs diff -r "$TREE" "$D/tree"
    eq multi.cp-owner-kept "$(stat -c %u:%g "$P/tree" 2>&1)" "$(stat -c %u:%g "$TREE")"
    # and a change in one DIR shows at the mount
    echo server-side > "$D/fromdir"
    eq multi.server-side-change "$(cat "$M/docs/fromdir" 2>&1)" "server-side"
    # umount of the root takes its submounts with it
    check multi.umount timeout 60 umount "$M"
    check multi.no-mounts-left bash -c "! grep -q ' $M' /proc/mounts"
    if [ -f "$SRV_PIDFILE" ] && kill -0 "$(cat "$SRV_PIDFILE")" 2>/dev/null; then
        kill "$(cat "$SRV_PIDFILE")"
    fi
}

# A filesystem mounted below DIR, as the kernel client sees it: without
# --crossmnt the directory it covers (as knfsd); with it a submount of its
# own, whose handles the client keeps across a restart of loopnfsd.
crossmnt_stop_server() {
    if [ -f "$SRV_PIDFILE" ] && kill -0 "$(cat "$SRV_PIDFILE")" 2>/dev/null; then
        kill "$(cat "$SRV_PIDFILE")"
        wait_for 20 bash -c "! kill -0 $(cat "$SRV_PIDFILE") 2>/dev/null"
    fi
}

phase_crossmnt() {
    echo "== phase crossmnt (a tmpfs mounted below DIR)"
    local X=/srv/xm M=/mnt-xm port=20491
    local opts="vers=3,proto=tcp,port=$port,mountport=$port,mountproto=tcp,nolock"
    local srv=("$KT_LOOPNFSD" --port $port --no-rpcbind --state-dir /srv/xm-state)
    mkdir -p "$X/m" "$M" /srv/xm-state && chmod 0755 "$X" "$X/m"
    echo covered > "$X/m/covered"
    check crossmnt.tmpfs mount -t tmpfs -o mode=0755,size=8m kt-xm "$X/m" || return
    echo mounted > "$X/m/mounted"

    start_guest_server /tmp/xm.out "${srv[@]}" "$X" || { fail crossmnt.server-start "see $SRV_LOG"; return; }
    if check crossmnt.mount-hidden tmount -t nfs -o "$opts" localhost:/ "$M"; then
        eq crossmnt.hidden-ls "$(ls "$M/m" | tr '\n' ' ')" "covered "
        eq crossmnt.hidden-read "$(cat "$M/m/covered" 2>&1)" "covered"
        eq crossmnt.hidden-same-device "$(stat -c %d "$M/m/.")" "$(stat -c %d "$M")"
        eq crossmnt.hidden-find "$(find "$M" | sort | tr '\n' ' ')" "$M $M/m $M/m/covered "
        check crossmnt.hidden-no-submount bash -c "! grep -q ' $M/m nfs' /proc/mounts"
        check crossmnt.umount-hidden timeout 60 umount "$M"
    fi
    crossmnt_stop_server

    start_guest_server /tmp/xm.out "${srv[@]}" --crossmnt "$X" || { fail crossmnt.server-start2 "see $SRV_LOG"; return; }
    if check crossmnt.mount tmount -t nfs -o "$opts" localhost:/ "$M"; then
        eq crossmnt.ls "$(ls "$M/m" | tr '\n' ' ')" "mounted "
        check crossmnt.own-device test "$(stat -c %d "$M/m/.")" != "$(stat -c %d "$M")"
        check crossmnt.submount bash -c "grep -q ' $M/m nfs' /proc/mounts"
        info "mounts: $(grep " $M" /proc/mounts | awk '{print $2"("$3")"}' | tr '\n' ' ')"
        eq crossmnt.find-xdev "$(find "$M" -xdev | sort | tr '\n' ' ')" "$M $M/m "
        check_sh crossmnt.write "echo via-nfs > $M/m/new"
        eq crossmnt.write-landed "$(cat "$X/m/new" 2>&1)" "via-nfs"
        # The client keeps its handles (an open file, the cached names) across a restart.
        exec 3< "$M/m/mounted"
        crossmnt_stop_server
        # (3<&-: the server must not inherit the client's open file, which pins the submount)
        start_guest_server /tmp/xm.out "${srv[@]}" --crossmnt "$X" 3<&- ||
            fail crossmnt.server-restart "see $SRV_LOG"
        eq crossmnt.read-open-file-after-restart "$(cat <&3 2>&1)" "mounted"
        exec 3<&-
        eq crossmnt.read-after-restart "$(cat "$M/m/new" 2>&1)" "via-nfs"
        check_sh crossmnt.write-after-restart "echo again >> $M/m/new"
        eq crossmnt.write-after-restart-landed "$(cat "$X/m/new" 2>&1 | tr '\n' ' ')" "via-nfs again "
        if ! check crossmnt.umount timeout 60 umount "$M"; then
            info "mounts: $(grep " $M" /proc/mounts | awk '{print $2}' | tr '\n' ' ')"
            info "users: $(fuser -vm "$M/m" 2>&1 | tr '\n' '|')"
            umount -l "$M"
        fi
    fi
    crossmnt_stop_server
    umount "$X/m" || umount -l "$X/m"
}

# NFSv4.1 with the real client: the literal mount negotiates 4.1 with
# rpcbind stopped, the scenario suite runs on it, and locks mean something:
# two processes contend with lockf and flock (the second waits, then wins),
# a local process's OFD lock on DIR holds the client off, concurrent sqlite
# writers leave an intact database, and loopnfsd killed with -9 while a
# lock is held: the client reclaims it and a rival does not get it during
# the grace period.
V4DIR=/srv/nfs4
V4MNT=/mnt4
V4STATE=/var/lib/kt-v4
LOCKS="/usr/bin/python3 $KT_DIR/locks.py"
v4_server() { start_guest_server /tmp/v4.out "$KT_LOOPNFSD" --nfs4 --no-rpcbind \
    --lease-time 15 --grace-time 15 -s "$V4STATE" "$V4DIR"; }
v4_stop_server() {
    if [ -f "$SRV_PIDFILE" ] && kill -0 "$(cat "$SRV_PIDFILE")" 2>/dev/null; then
        kill "${1:--TERM}" "$(cat "$SRV_PIDFILE")"
        wait_for 20 bash -c "! kill -0 $(cat "$SRV_PIDFILE") 2>/dev/null"
    fi
}

v4_locks() {
    local f=$V4MNT/locks
    mkdir -p "$f"
    for kind in lockf flock; do
        rm -f /tmp/held.$kind
        $LOCKS hold "$f/$kind" $kind 6 /tmp/held.$kind &
        local holder=$!
        wait_for 30 test -e /tmp/held.$kind
        check v4.$kind-refused-while-held bash -c "! $LOCKS try $f/$kind $kind"
        local waited
        waited=$($LOCKS wait "$f/$kind" $kind 90)
        check v4.$kind-second-waits-then-wins test -n "$waited"
        info "v4 $kind: the second process waited ${waited}s"
        wait $holder
    done
    # A local process on DIR, with an OFD lock, holds the NFS client off.
    rm -f /tmp/held.ofd
    $LOCKS ofd-hold "$V4DIR/locks/local" 6 /tmp/held.ofd &
    local ofd=$!
    wait_for 30 test -e /tmp/held.ofd
    check v4.local-ofd-lock-holds-client-off bash -c "! $LOCKS try $f/local lockf"
    wait $ofd
    check v4.client-gets-it-after-local-release $LOCKS wait "$f/local" lockf 90
    # ... and the client's lock holds a local process off.
    rm -f /tmp/held.nfs
    $LOCKS hold "$f/nfsheld" lockf 6 /tmp/held.nfs &
    local nh=$!
    wait_for 30 test -e /tmp/held.nfs
    check v4.client-lock-holds-local-off bash -c "! $LOCKS try $V4DIR/locks/nfsheld lockf"
    wait $nh
}

v4_sqlite() {
    local db=$V4MNT/kt.sqlite w pids=()
    rm -f "$db"
    for w in 1 2 3 4; do
        $LOCKS sqlite "$db" $w 100 & pids+=($!)
    done
    check v4.sqlite-writers wait "${pids[@]}"
    check v4.sqlite-integrity $LOCKS sqlite-check "$db" 400
}

v4_reclaim() {
    local f=$V4MNT/locks/reclaim
    rm -f /tmp/held.rc
    $LOCKS hold "$f" lockf 60 /tmp/held.rc &
    local holder=$!
    wait_for 30 test -e /tmp/held.rc
    v4_stop_server -KILL
    v4_server || { fail v4.restart "see $SRV_LOG"; kill $holder; return; }
    # During grace the rival is told to wait (GRACE), then DENIED once the holder has reclaimed.
    check v4.rival-refused-after-restart bash -c "! timeout 60 $LOCKS try $f lockf"
    check v4.holder-still-alive kill -0 $holder
    kill $holder; wait $holder 2>/dev/null
    check v4.rival-gets-it-after-release $LOCKS wait "$f" lockf 90
}

phase_v4() {
    echo "== phase v4 (NFSv4.1: literal mount without rpcbind, suite, locks, reclaim)"
    if grep -q ' /mnt nfs' /proc/mounts; then
        timeout 60 umount /mnt || umount -l /mnt
    fi
    v4_stop_server
    mkdir -p "$V4DIR" "$V4MNT" "$V4STATE" && chmod 0755 "$V4DIR"
    local rpcb; rpcb=$(pidof rpcbind)
    [ -n "$rpcb" ] && kill $rpcb
    v4_server || { fail v4.server-start "see $SRV_LOG"; return; }
    check v4.mount-literal tmount -t nfs localhost:/ "$V4MNT" || return
    info "mount: $(grep " $V4MNT " /proc/mounts)"
    check v4.mount-is-4.1 bash -c "grep ' $V4MNT ' /proc/mounts | grep -q 'vers=4.1'"
    bash "$SCEN" --mnt "$V4MNT" --dir "$V4DIR" --label v4.root $QARG --tree "$TREE" \
        --sections files,perms,bigdir,tree,git,concurrent
    v4_locks
    v4_sqlite
    v4_reclaim
    check v4.umount timeout 60 umount "$V4MNT"
    v4_stop_server
    rpcbind -w
}

run_phases() {
    local t
    want_phase selftest && [ "$KT_PHASES" != all ] && phase_selftest
    for ph in guest sync squash restart host sparse multi crossmnt; do
        want_phase $ph || continue
        t=$SECONDS
        "phase_$ph"
        info "phase $ph took $((SECONDS - t))s"
    done
    server_log_hint
    for m in /mnt-host /mnt; do
        if grep -q " $m nfs" /proc/mounts; then
            if ! check "umount$m" timeout 60 umount "$m"; then
                info "users of $m: $(fuser -vm "$m" 2>&1 | tr '\n' '|')"
                umount -l "$m"
            fi
        fi
    done
    if [ -f "$SRV_PIDFILE" ] && kill -0 "$(cat "$SRV_PIDFILE")" 2>/dev/null; then
        kill "$(cat "$SRV_PIDFILE")"
    fi
    return 0
}
