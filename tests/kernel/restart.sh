#!/bin/bash
# loopnfs kernel tier: restart under load (run as root in the guest).
#
# usage: restart.sh MNT DIR LABEL MB -- SERVER-COMMAND...
#
# With loopnfsd (started by the caller with SERVER-COMMAND, pid in
# $KT_SERVER_PIDFILE) serving DIR on a hard mount at MNT: a writer streams
# MB MiB in 1 MiB chunks through one open file descriptor (fsync after
# every other chunk) while a reader streams a file through another held
# descriptor and a shell sits in a directory on the mount.  After a quarter
# of the chunks the server is killed with SIGKILL and, a few seconds later,
# restarted with the same command line (same port).  The client must
# recover by itself; the held handles must still work; every checksum must
# match.
KT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$KT_DIR/lib.sh"
export LC_ALL=C

MNT=$1 DIR=$2 LABEL=$3 MB=$4
shift 4
[ "$1" = -- ] && shift
SERVER_CMD=("$@")
PIDFILE=${KT_SERVER_PIDFILE:?}
SLOG=${KT_SERVER_LOG:-/dev/null}
SOUT=${KT_SERVER_OUT:-/dev/null}

d="$MNT/$LABEL"
sd="$DIR/$LABEL"
W=$(mktemp -d /tmp/kt-restart.XXXXXX)
mkdir -p "$d/cwd" || { fail "$LABEL.mkdir"; exit 0; }
echo "in cwd" > "$d/cwd/marker"
head -c $((MB << 20)) /dev/urandom > "$W/stream"
head -c $((MB << 19)) /dev/urandom > "$W/readsrc"
cp "$W/readsrc" "$d/held-read"
sync
echo 3 > /proc/sys/vm/drop_caches
want_w=$(sha256sum < "$W/stream" | cut -d' ' -f1)
want_r=$(sha256sum < "$W/readsrc" | cut -d' ' -f1)

# writer: one open fd (3) for the whole stream
(
    exec 3> "$d/stream"
    for ((i = 0; i < MB; i++)); do
        if ((i % 2)); then
            dd if="$W/stream" bs=1M skip=$i count=1 status=none conv=fsync >&3 || exit 1
        else
            dd if="$W/stream" bs=1M skip=$i count=1 status=none >&3 || exit 1
        fi
        echo $((i + 1)) > "$W/wprogress"
        sleep 0.1
    done
    exec 3>&-
) > "$W/writer.out" 2>&1 &
wpid=$!

# reader: one open fd (4), reads half the file before the kill and the
# rest after it, with page cache dropped in between
exec 4< "$d/held-read"
dd bs=1M count=$((MB / 4)) status=none <&4 > "$W/readback"

# a process whose cwd is a directory on the mount
( cd "$d/cwd" || exit 1; while [ ! -e "$W/go" ]; do sleep 0.2; done; cat marker > "$W/cwd.out" 2>&1; ls > "$W/cwd.ls" 2>&1 ) &
cpid=$!

# wait for a quarter of the stream, then kill -9 the server
wait_for 300 bash -c "[ \"\$(cat '$W/wprogress' 2>/dev/null || echo 0)\" -ge $((MB / 4)) ]" \
    || info "$LABEL: writer made no progress before the kill"
oldpid=$(cat "$PIDFILE")
info "$LABEL: killing loopnfsd (pid $oldpid) with SIGKILL after $(cat "$W/wprogress" 2>/dev/null) MiB"
kill -9 "$oldpid"
wait "$oldpid" 2>/dev/null
sleep 3
echo 3 > /proc/sys/vm/drop_caches
echo "--- restart $(date +%T)" >> "$SLOG"
# fd 4 is the held reader on the mount: the server must not inherit it, or
# it keeps the mount busy at the end of the tier.
"${SERVER_CMD[@]}" >> "$SOUT" 2>> "$SLOG" < /dev/null 4<&- &
newpid=$!
echo "$newpid" > "$PIDFILE"
if wait_for 30 bash -c "kill -0 $newpid && [ \$(grep -c 'port=' '$SOUT') -ge 2 ]"; then
    pass "$LABEL.server-restarted-same-port"
else
    fail "$LABEL.server-restarted-same-port" "$(tail -3 "$SLOG" | tr '\n' '|')"
fi
t0=$SECONDS

# finish the reader through the held fd
dd bs=1M status=none <&4 >> "$W/readback"
exec 4<&-
eq "$LABEL.held-read-fd-after-restart" "$(sha256sum < "$W/readback" | cut -d' ' -f1)" "$want_r"
touch "$W/go"
wait "$cpid"
eq "$LABEL.held-cwd-after-restart" "$(cat "$W/cwd.out" 2>&1)|$(tr '\n' ' ' < "$W/cwd.ls" 2>&1)" "in cwd|marker "

# writer must finish on its own
if wait_for 600 bash -c "! kill -0 $wpid 2>/dev/null"; then
    wait "$wpid"; wrc=$?
    eq "$LABEL.writer-exit" "$wrc" "0"
    [ $wrc -eq 0 ] || sed 's/^/    writer: /' "$W/writer.out" | tail -5
else
    fail "$LABEL.writer-exit" "writer still running after 600 s"
    kill "$wpid" 2>/dev/null
fi
info "$LABEL: writer finished $((SECONDS - t0))s after the restart"
echo 3 > /proc/sys/vm/drop_caches
eq "$LABEL.stream-checksum-mount" "$(sha256sum < "$d/stream" | cut -d' ' -f1)" "$want_w"
eq "$LABEL.stream-checksum-server" "$(sha256sum < "$sd/stream" | cut -d' ' -f1)" "$want_w"
# handles obtained before the restart, used afresh
check "$LABEL.old-handles-stat" stat "$d/cwd/marker" "$d/held-read" "$d/stream"
check "$LABEL.new-file-after-restart" bash -c "echo after > '$d/after' && test \"\$(cat '$d/after')\" = after"
rm -rf "$W"
exit 0
