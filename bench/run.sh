#!/bin/bash
# Run loopnfsd and nfs-ganesha side by side with loopnfs-bench and print a
# comparison table.
#
#   bash bench/run.sh [--short] [--rounds N] [--build DIR] [--servers "loopnfs ganesha"]
#                     [--out DIR] [--keep] [--workloads LIST]
#
# Everything runs inside one private network + mount namespace created here
# (unshare -m -n): loopback up, a tmpfs on /run, a private rpcbind (ganesha
# 4.3 exits without one), ganesha with its own config and ports, loopnfsd
# with --no-rpcbind, and the benchmark client.  Nothing touches the host's
# network, /run or rpcbind.  Both exports and the local-limit directory live
# in one temporary directory on the same filesystem (BENCH_TMPDIR, default
# /var/tmp).
#
# --workloads LIST: run only these (e.g. "readdir,stat,stat@4"), for a quick
# look at one area; the table then has "-" for the rest.
#
# --short: small sizes, one round, meant for CI: proves every workload runs
# and verifies, asserts no speed.  Exits non-zero if anything fails,
# including a missing loopnfsd.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHORT=0
ROUNDS=
BUILD=${LOOPNFS_BUILD_DIR:-build}
SERVERS="loopnfs ganesha"
OUT=
KEEP=0
WL_OVERRIDE=
ORIG_ARGS=("$@")

usage() { sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case "$1" in
	--short) SHORT=1 ;;
	--rounds) ROUNDS=$2; shift ;;
	--rounds=*) ROUNDS=${1#*=} ;;
	--build) BUILD=$2; shift ;;
	--build=*) BUILD=${1#*=} ;;
	--servers) SERVERS=$2; shift ;;
	--servers=*) SERVERS=${1#*=} ;;
	--out) OUT=$2; shift ;;
	--out=*) OUT=${1#*=} ;;
	--keep) KEEP=1 ;;
	--workloads) WL_OVERRIDE=$2; shift ;;
	--workloads=*) WL_OVERRIDE=${1#*=} ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 1 ;;
	esac
	shift
done
[ -n "$ROUNDS" ] || { [ $SHORT = 1 ] && ROUNDS=1 || ROUNDS=3; }
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
[ -n "$OUT" ] || OUT="$BUILD/bench-results"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac

RESULTS=
fail() {
	echo "run.sh: FAIL: $*" >&2
	if [ $SHORT = 1 ] && [ -z "${LOOPNFS_BENCH_IN_NS:-}" ]; then
		echo "bench: 0 passed, 1 failed"
	fi
	exit 1
}

# ---- preflight (outside the namespace, so errors are plain) ----
if [ -z "${LOOPNFS_BENCH_IN_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || fail "must run as root (needs unshare -m -n)"
	tools="unshare ip rpcbind rpcinfo stdbuf"
	case " $SERVERS " in *" ganesha "*) tools="$tools ganesha.nfsd" ;; esac
	for t in $tools; do
		command -v "$t" >/dev/null 2>&1 ||
			fail "'$t' not found: install with 'bash scripts/setup.sh --bench' (nfs-ganesha nfs-ganesha-vfs rpcbind iproute2)"
	done
	BENCH_BIN=${LOOPNFS_BENCH_BIN:-}
	if [ -z "$BENCH_BIN" ]; then
		for c in "$BUILD/bench/loopnfs-bench" "$BUILD/loopnfs-bench"; do
			[ -x "$c" ] && { BENCH_BIN=$c; break; }
		done
	fi
	[ -n "$BENCH_BIN" ] && [ -x "$BENCH_BIN" ] ||
		fail "loopnfs-bench not built under $BUILD (run 'bash scripts/build.sh' first)"
	for s in $SERVERS; do
		case "$s" in
		loopnfs) [ -x "$BUILD/loopnfsd" ] ||
			fail "$BUILD/loopnfsd not built (run 'bash scripts/build.sh' first); the benchmark cannot run without it" ;;
		loopnfs-base) [ -x "${LOOPNFSD_BASE:-}" ] ||
			fail "loopnfs-base needs LOOPNFSD_BASE=PATH of the baseline loopnfsd (an A/B of two builds)" ;;
		ganesha) ;;
		*) fail "unknown server '$s' (loopnfs, loopnfs-base, ganesha)" ;;
		esac
	done
	export LOOPNFS_BENCH_IN_NS=1 LOOPNFS_BENCH_BIN="$BENCH_BIN"
	exec unshare -m -n --propagation private bash "${BASH_SOURCE[0]}" "${ORIG_ARGS[@]}"
fi

# ---- inside the private namespace ----
BENCH_BIN=$LOOPNFS_BENCH_BIN
if [ $SHORT = 1 ]; then
	SIZE=64M; MIXSIZE=64M; FILES=2000; DURATION=1; COMMIT_EVERY=16M; WARM=0
else
	# WARM: memory touched and freed before each timed writing workload
	# (see warm_memory in bench/main.c); 1 GiB lands twice in the page cache
	# (the export's and the loop image's).
	SIZE=1G; MIXSIZE=1G; FILES=100000; DURATION=5; COMMIT_EVERY=256M; WARM=3G
fi
WARM=${BENCH_WARM_MEM:-$WARM}
QD=16
WORKLOADS="null,null@4,seqwrite,seqread,seqread@4,randread,randread@4,create,stat,stat@4,readdir,remove,mixed"
LOCALS="local-null,local-seqwrite,local-seqread,local-randread,local-create,local-stat,local-readdir,local-remove"
if [ -n "$WL_OVERRIDE" ]; then
	# Only these workloads, and the local limits they are compared with.
	WORKLOADS=$WL_OVERRIDE
	LOCALS=$(echo "$WL_OVERRIDE" | tr ',' '\n' | sed 's/@.*//; s/^mixed$/seqwrite/; s/^/local-/' |
		sort -u | paste -sd, -)
fi

ip link set lo up
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/rpcbind /run/ganesha

TMPBASE=${BENCH_TMPDIR:-/var/tmp}
WORK=$(mktemp -d "$TMPBASE/loopnfs-bench.XXXXXX")
mkdir -p "$OUT"
RESULTS="$OUT/results.txt"
: > "$RESULTS"
PIDS=()

EXPECTED=0
cleanup() {
	local rc=$? passed=0 failed
	if [ $SHORT = 1 ]; then
		[ -f "$RESULTS" ] && passed=$(grep -c '^RESULT' "$RESULTS" || true)
		failed=$((EXPECTED - passed))
		[ $failed -lt 0 ] && failed=0
		[ $rc != 0 ] && [ $failed = 0 ] && failed=1
		echo "bench: $passed passed, $failed failed"
	fi
	for p in ${PIDS[@]+"${PIDS[@]}"}; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in ${PIDS[@]+"${PIDS[@]}"}; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	for m in ${MOUNTS[@]+"${MOUNTS[@]}"}; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	if [ $KEEP = 0 ]; then
		rm -rf "$WORK"
	else
		echo "run.sh: kept $WORK" >&2
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[$(date +%T)] $*" >&2; }

# Every server, every round, and the local limits get a fresh ext4 (a sparse
# image on BENCH_TMPDIR's disk, loop-mounted in this namespace). On a reused
# filesystem the previous run's 100,000 removals slow the next create phase
# up to 5x (ext4 skips inodes freed in the last 60-360 s, reading each one's
# inode table block), and which server suffered depended on where its
# directory landed. BENCH_FRESH_FS=0 uses plain directories in the temp dir.
MOUNTS=()
FS_DIR=
fresh_fs() { # $1 = tag; sets FS_DIR to an empty directory to use
	local tag=$1
	if [ "${BENCH_FRESH_FS:-1}" = 0 ]; then
		FS_DIR="$WORK/$tag"
		mkdir -p "$FS_DIR"
		return
	fi
	local img="$WORK/$tag.img" mnt="$WORK/$tag.mnt"
	truncate -s 8G "$img"
	# Inode tables and journal written now, not by ext4lazyinit during the run.
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$img" ||
		fail "mkfs.ext4 $img failed"
	mkdir -p "$mnt"
	mount -o loop "$img" "$mnt" || fail "cannot loop-mount $img (BENCH_FRESH_FS=0 avoids it)"
	MOUNTS+=("$mnt")
	FS_DIR="$mnt/dir"
	mkdir -p "$FS_DIR"
	# Write back mkfs's inode tables and the last run's data now, so whoever
	# runs first in a round doesn't pay for them in its COMMITs.
	sync
}
drop_fs() { # $1 = tag
	local mnt="$WORK/$1.mnt" keep=() m
	rm -rf "$WORK/$1"
	if mountpoint -q "$mnt"; then
		umount "$mnt" || umount -l "$mnt"
	fi
	for m in ${MOUNTS[@]+"${MOUNTS[@]}"}; do [ "$m" = "$mnt" ] || keep+=("$m"); done
	MOUNTS=(${keep[@]+"${keep[@]}"})
	rm -rf "$mnt" "$WORK/$1.img"
}

rpcbind -f &
RPCBIND_PID=$!
PIDS+=("$RPCBIND_PID")
for _ in $(seq 50); do rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && break; sleep 0.1; done
rpcinfo -p 127.0.0.1 >/dev/null 2>&1 || fail "private rpcbind did not start"

GANESHA_NFS_PORT=2049
GANESHA_MNT_PORT=20048

write_ganesha_conf() { # $1 = export dir, $2 = conf file
	cat > "$2" <<EOF
NFS_CORE_PARAM {
	NFS_Port = $GANESHA_NFS_PORT;
	MNT_Port = $GANESHA_MNT_PORT;
	NLM_Port = 32803;
	Rquota_Port = 875;
	Protocols = 3;
	Enable_NLM = false;
	Enable_RQUOTA = false;
	Enable_UDP = false;
}
NFSV4 {
	Graceless = true;
	RecoveryRoot = "$WORK/ganesha-recovery";
}
NFS_KRB5 { Active_krb5 = false; }
EXPORT {
	Export_Id = 1;
	Path = "$1";
	Pseudo = "/bench";
	Access_Type = RW;
	Squash = No_Root_Squash;
	Protocols = 3;
	Transports = TCP;
	SecType = sys;
	FSAL { Name = VFS; }
}
LOG { Default_Log_Level = EVENT; }
EOF
}

SERVER_PID=
SERVER_PORT=
SERVER_MNT_PORT=
SERVER_LOG=

start_server() { # $1 = loopnfs|ganesha, $2 = export dir, $3 = tag
	local name=$1 exp=$2 tag=$3
	SERVER_LOG="$WORK/$tag.log"
	case "$name" in
	loopnfs | loopnfs-base)
		local out="$WORK/$tag.out" bin="$BUILD/loopnfsd"
		[ "$name" = loopnfs-base ] && bin=$LOOPNFSD_BASE
		# Same settings as the ganesha export: root not squashed, TCP only;
		# state (file handle key) kept in the work dir, not the host's.
		local extra=() help
		help=$("$bin" --help 2>&1 || true)
		grep -q -- '--no-root-squash' <<<"$help" && extra+=(--no-root-squash)
		grep -q -- '--no-udp' <<<"$help" && extra+=(--no-udp)
		grep -q -- '--state-dir' <<<"$help" && { mkdir -p "$WORK/loopnfs-state"; extra+=(--state-dir "$WORK/loopnfs-state"); }
		stdbuf -oL -eL "$bin" --listen 127.0.0.1 --port 0 --no-rpcbind \
			${extra[@]+"${extra[@]}"} ${LOOPNFSD_ARGS:-} "$exp" > "$out" 2> "$SERVER_LOG" &
		SERVER_PID=$!
		PIDS+=("$SERVER_PID")
		SERVER_PORT=
		for _ in $(seq 100); do
			SERVER_PORT=$(grep -o 'port=[0-9]*' "$out" 2>/dev/null | head -1 | cut -d= -f2 || true)
			[ -n "$SERVER_PORT" ] && break
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		[ -n "$SERVER_PORT" ] || {
			tail -20 "$SERVER_LOG" "$out" >&2 || true
			fail "loopnfsd did not print port=N within 10 s"
		}
		SERVER_MNT_PORT=$(grep -Eo 'mount[-_]port=[0-9]+' "$out" | head -1 | cut -d= -f2 || true)
		[ -n "$SERVER_MNT_PORT" ] || SERVER_MNT_PORT=$SERVER_PORT
		;;
	ganesha)
		local conf="$WORK/$tag.conf"
		mkdir -p "$WORK/ganesha-recovery"
		write_ganesha_conf "$exp" "$conf"
		ganesha.nfsd -F -f "$conf" -L "$SERVER_LOG" -p "$WORK/$tag.pid" &
		SERVER_PID=$!
		PIDS+=("$SERVER_PID")
		SERVER_PORT=$GANESHA_NFS_PORT
		SERVER_MNT_PORT=$GANESHA_MNT_PORT
		;;
	esac
	# Ready when a MOUNT + NULL round trip works.
	local ok=0
	for _ in $(seq 60); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		if "$BENCH_BIN" --port "$SERVER_PORT" --mount-port "$SERVER_MNT_PORT" --export "$exp" \
			--workload null --duration 0.05 --timeout 5 >/dev/null 2>&1; then
			ok=1; break
		fi
		sleep 0.5
	done
	if [ $ok = 0 ]; then
		tail -30 "$SERVER_LOG" >&2 || true
		fail "$name did not become ready (log: $SERVER_LOG)"
	fi
}

forget_pid() {
	local keep=() p
	for p in ${PIDS[@]+"${PIDS[@]}"}; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=(${keep[@]+"${keep[@]}"})
}

HWM=0
stop_server() { # sets HWM (server peak RSS, KiB) and stops the server
	HWM=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || true)
	[ -n "$HWM" ] || HWM=0
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		log "$SERVER_PID did not exit on SIGTERM within 10 s; killing"
		kill -KILL "$SERVER_PID" 2>/dev/null || true
	fi
	wait "$SERVER_PID" 2>/dev/null || true
	forget_pid "$SERVER_PID"
}

run_bench() { # $1 = label, $2 = port, $3 = mount port, $4 = export, $5 = round
	local label=$1 port=$2 mport=$3 exp=$4 round=$5 rc=0
	"$BENCH_BIN" --label "$label" --port "$port" --mount-port "$mport" --export "$exp" \
		--workload "$WORKLOADS" --qd $QD --size "$SIZE" --files "$FILES" \
		--duration "$DURATION" --commit-every "$COMMIT_EVERY" --warm-mem "$WARM" \
		> "$WORK/bench.out" 2> "$WORK/bench.err" || rc=$?
	sed "s/^RESULT /RESULT round=$round /" "$WORK/bench.out" | grep '^RESULT' >> "$RESULTS" || true
	grep '^RESULT' "$WORK/bench.out" | sed "s/^/  [$label r$round] /" >&2 || true
	if [ $rc != 0 ]; then
		cat "$WORK/bench.err" >&2
		tail -30 "$SERVER_LOG" >&2 || true
		fail "benchmark against $label failed (exit $rc)"
	fi
}

[ "$MIXSIZE" = "$SIZE" ] || fail "internal: mixed size must equal --size"
nw=$(echo "$WORKLOADS" | tr ',' '\n' | wc -l)
nl=$(echo "$LOCALS" | tr ',' '\n' | wc -l)
ns=$(echo $SERVERS | wc -w)
EXPECTED=$(( ROUNDS * (nw * ns + nl) ))

START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "work dir $WORK, $ROUNDS round(s), servers: $SERVERS, size $SIZE, files $FILES, duration ${DURATION}s, qd $QD"
for round in $(seq "$ROUNDS"); do
	# Alternate which server goes first.
	order=$SERVERS
	if [ $((round % 2)) = 0 ]; then
		order=$(echo "$SERVERS" | awk '{for (i = NF; i > 0; i--) printf "%s ", $i}')
	fi
	for s in $order; do
		fresh_fs "export-$s-r$round"
		exp=$FS_DIR
		log "round $round: $s"
		start_server "$s" "$exp" "$s-r$round"
		run_bench "$s" "$SERVER_PORT" "$SERVER_MNT_PORT" "$exp" "$round"
		stop_server
		echo "RSS round=$round label=$s vmhwm_kib=$HWM" >> "$RESULTS"
		log "round $round: $s done, peak RSS $((HWM / 1024)) MiB"
		drop_fs "export-$s-r$round"
	done
	log "round $round: local limits"
	fresh_fs "local-r$round"
	"$BENCH_BIN" --label local --dir "$FS_DIR" --workload "$LOCALS" --qd $QD \
		--size "$SIZE" --files "$FILES" --duration "$DURATION" --warm-mem "$WARM" \
		> "$WORK/local.out" 2> "$WORK/local.err" || {
		cat "$WORK/local.err" >&2
		fail "local-limit measurement failed"
	}
	sed "s/^RESULT /RESULT round=$round /" "$WORK/local.out" | grep '^RESULT' >> "$RESULTS"
	drop_fs "local-r$round"
done
ELAPSED=$(( $(date +%s) - START ))

{
	echo "# loopnfs-bench $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, kernel $(uname -r)"
	echo "# rounds=$ROUNDS size=$SIZE files=$FILES duration=${DURATION}s qd=$QD short=$SHORT elapsed=${ELAPSED}s"
	echo "# load average at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# servers: $(for s in $SERVERS; do case $s in
		loopnfs) printf '%s; ' "$("$BUILD/loopnfsd" --version 2>&1 | head -1)$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null | sed 's/^/ @ /')" ;;
		ganesha) printf 'nfs-ganesha %s (VFS FSAL); ' "$(dpkg-query -W -f '${Version}' nfs-ganesha 2>/dev/null)" ;;
		esac; done)"
	echo
	awk -v servers="$SERVERS" -f "$ROOT/bench/summarize.awk" "$RESULTS"
} | tee "$OUT/table.md"
log "raw results: $RESULTS, table: $OUT/table.md (${ELAPSED}s)"
