#!/bin/bash
# Read loopnfs's encrypted view (loopnfsd --reverse-encrypt) against the
# passthrough export of the same tree and against gocryptfs -reverse over
# FUSE, with the same workloads and sizes in one run, and print a table.
#
#   bash bench/crypt.sh [--short] [--rounds N] [--build DIR] [--out DIR] [--keep]
#
# One plaintext tree in a temporary directory (BENCH_TMPDIR, default
# /var/tmp): a 256 MiB random file and a directory of 20,000 files of
# 4 KiB, with a config made by `loopnfs-crypt init`. Four targets read it:
#   passthrough  loopnfsd --ro DIR, over NFS (loopnfs-bench, libnfs)
#   view         loopnfsd --reverse-encrypt DIR, over NFS: the ciphertext
#   gocryptfs    gocryptfs -reverse DIR MNT (FUSE), read locally: the same
#                ciphertext, byte for byte
#   plain        DIR read locally: the ceiling
# Workloads, each with 1 and with 16 requests in flight (NFS: one
# connection at --qd 1 / 16; local: 1 / 16 threads): seqread (1 MiB reads,
# whole passes over the big file), randread (4 KiB at random 4 KiB-aligned
# offsets of it), and readdir with attributes, one listing at a time (NFS:
# READDIRPLUS; local: getdents64 + fstatat of every entry). Through the
# view and gocryptfs the file read is the big file's ciphertext (18 + size
# + 32 bytes per 4 KiB) and the directory has one entry more
# (gocryptfs.diriv).
#
# Fairness: every bench run starts with an untimed pass reading the file
# whole and an untimed listing (so every cache, the plaintext's page cache
# included, is warm for every target alike); nothing drops caches but this:
# the FUSE side reads with --drop-behind (each range read is then dropped
# from the mount's page cache with POSIX_FADV_DONTNEED), because the kernel
# would otherwise answer repeated reads from it without asking gocryptfs,
# where every NFS READ reaches loopnfsd; reads stay buffered, with the
# kernel's readahead, as a reader of the mount gets them. The plain ceiling
# reads through the page cache. On the FUSE side the kernel may answer the
# fstatat of a listing from its attribute cache (gocryptfs's 1 s timeouts):
# in gocryptfs's favour. Rounds alternate the order of the targets; the
# table shows medians over rounds and the ratios view/passthrough and
# view/gocryptfs.
#
# Verification: every timed read is compared with the untimed pass, every
# listing with the first; each target's file size must be the expected
# plaintext or ciphertext size and its listing the expected count; the view
# must serve the same bytes and names as gocryptfs, passthrough the same as
# the plain directory (hashes in the RESULT lines).
#
# --short: tiny sizes, one round, for CI: proves it runs and verifies,
# asserts no speed. Exits 0 with a message (and skips) when gocryptfs,
# fusermount3 or /dev/fuse is missing. --out DIR (default
# BUILD/bench-crypt-results): results.txt (every RESULT line) and table.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHORT=0
ROUNDS=
BUILD=${LOOPNFS_BUILD_DIR:-build}
OUT=
KEEP=0

usage() { sed -n '2,48p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case "$1" in
	--short) SHORT=1 ;;
	--rounds) ROUNDS=$2; shift ;;
	--rounds=*) ROUNDS=${1#*=} ;;
	--build) BUILD=$2; shift ;;
	--build=*) BUILD=${1#*=} ;;
	--out) OUT=$2; shift ;;
	--out=*) OUT=${1#*=} ;;
	--keep) KEEP=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "crypt.sh: unknown argument: $1" >&2; usage >&2; exit 1 ;;
	esac
	shift
done
[ -n "$ROUNDS" ] || { [ $SHORT = 1 ] && ROUNDS=1 || ROUNDS=3; }
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
[ -n "$OUT" ] || OUT="$BUILD/bench-crypt-results"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac

if [ $SHORT = 1 ]; then
	BIG=$((8 * 1024 * 1024 + 1234)); FILES=500; DURATION=0.5
else
	BIG=$((256 * 1024 * 1024)); FILES=20000; DURATION=5
fi
TARGETS="passthrough view gocryptfs plain"

RESULTS=
PASSED=0
FAILED=0
summary() {
	[ $SHORT = 1 ] && echo "crypt bench: $PASSED passed, $FAILED failed"
	return 0
}
fail() {
	echo "crypt.sh: FAIL: $*" >&2
	FAILED=$((FAILED + 1))
	exit 1
}
skip() {
	echo "crypt.sh: SKIP: $*"
	[ $SHORT = 1 ] && echo "crypt bench: 0 passed, 0 failed, 1 skipped"
	SKIPPED=1
	exit 0
}
log() { echo "[$(date +%T)] $*" >&2; }

WORK=
SERVER_PID=
GC_PID=
MNT=
SKIPPED=0
cleanup() {
	local rc=$?
	[ $rc != 0 ] && [ $FAILED = 0 ] && FAILED=1
	[ $SKIPPED = 1 ] || summary
	stop_target
	if [ -n "$WORK" ] && [ $KEEP = 0 ]; then
		rm -rf "$WORK"
	elif [ -n "$WORK" ]; then
		echo "crypt.sh: kept $WORK" >&2
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the tree ----
# One big file (random: the cipher's work does not depend on the bytes, and
# nothing compresses it) and a directory of small files, in one process
# each; then the config, with a cheap scrypt (only the start pays for it).
make_tree() {
	local p=$WORK/plain
	mkdir -p "$p/files"
	head -c "$BIG" /dev/urandom >"$p/big"
	head -c $((FILES * 4096)) /dev/urandom | (cd "$p/files" && split -b 4096 -a 5 -d - f)
	[ "$(find "$p/files" -type f | wc -l)" = "$FILES" ] || fail "made the wrong number of files"
	printf 'loopnfs crypt bench\n' >"$WORK/pw"
	"$BUILD/loopnfs-crypt" init --scryptn 10 --passfile "$WORK/pw" "$p" >/dev/null 2>&1 ||
		fail "loopnfs-crypt init $p failed"
	ENC_BIG=$("$BUILD/loopnfs-crypt" encrypt-path --passfile "$WORK/pw" "$p" big)
	ENC_FILES=$("$BUILD/loopnfs-crypt" encrypt-path --passfile "$WORK/pw" "$p" files)
	sync
}

# gocryptfs's file format: an 18-byte header, then per 4 KiB of plaintext
# a block of 32 bytes more (nonce and tag); an empty file stays empty.
cipher_size() { # $1 = plaintext size
	[ "$1" = 0 ] && { echo 0; return; }
	echo $((18 + $1 + 32 * (($1 + 4095) / 4096)))
}

# ---- targets ----
PORT=
start_loopnfsd() { # $1 = tag, then loopnfsd's arguments
	local tag=$1 out="$WORK/$1.out"
	shift
	mkdir -p "$WORK/state"
	"$BUILD/loopnfsd" --listen 127.0.0.1 --port 0 --no-rpcbind --no-udp -s "$WORK/state" \
		"$@" >"$out" 2>"$WORK/$tag.log" &
	SERVER_PID=$!
	PORT=
	for _ in $(seq 100); do
		PORT=$(sed -n 's/.*ready port=\([0-9]*\).*/\1/p' "$out" | head -1)
		[ -n "$PORT" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$PORT" ] || { tail -20 "$WORK/$tag.log" >&2; fail "loopnfsd ($tag) did not start"; }
	"$BENCH_BIN" --port "$PORT" --export / --workload null --duration 0.05 --timeout 5 \
		>/dev/null 2>&1 || fail "loopnfsd ($tag) does not answer MOUNT + NULL"
}

# In the foreground (-fg) as our own child, so that its PID is known: for
# its peak RSS, and to wait for it after the unmount.
start_gocryptfs() {
	mkdir -p "$MNT"
	gocryptfs -fg -q -nosyslog -reverse -passfile "$WORK/pw" "$WORK/plain" "$MNT" \
		>"$WORK/gocryptfs.log" 2>&1 &
	GC_PID=$!
	for _ in $(seq 100); do
		mountpoint -q "$MNT" && return 0
		kill -0 "$GC_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -5 "$WORK/gocryptfs.log" >&2
	fail "gocryptfs -reverse did not mount (FUSE not usable here?)"
}

HWM=0
stop_target() { # sets HWM (peak RSS of the server or gocryptfs, KiB)
	local pid=${SERVER_PID:-$GC_PID}
	HWM=0
	[ -n "$pid" ] || return 0
	HWM=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
	if [ -n "$GC_PID" ]; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null || true
	else
		kill -TERM "$pid" 2>/dev/null || true
	fi
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	SERVER_PID=
	GC_PID=
}

# ---- measuring ----
# What the file and the listing must look like on a target: the plaintext
# (passthrough, plain) or the ciphertext with its gocryptfs.diriv (view,
# gocryptfs); the first target of a kind sets the hashes the other must show.
declare -A DIGEST
kind_of() { case $1 in passthrough | plain) echo plain ;; *) echo cipher ;; esac; }

verify() { # $1 = target, $2 = RESULT line
	local t=$1 line=$2 kind k v want
	kind=$(kind_of "$t")
	for k in file_size listed file_digest names_digest; do
		v=$(grep -o " $k=[^ ]*" <<<"$line" | cut -d= -f2 || true)
		[ -n "$v" ] || continue
		case $k in
		file_size) want=$BIG; [ "$kind" = cipher ] && want=$(cipher_size "$BIG") ;;
		listed) want=$FILES; [ "$kind" = cipher ] && want=$((FILES + 1)) ;;
		*) want=${DIGEST[$kind.$k]:-$v}; DIGEST[$kind.$k]=$want ;;
		esac
		[ "$v" = "$want" ] || {
			echo "$line" >&2
			fail "$t: $k=$v, expected $want (the $kind size or count, or the hash the first $kind target showed)"
		}
	done
}

run_bench() { # $1 = target, $2 = round, then loopnfs-bench's arguments
	local t=$1 round=$2 rc=0 line
	shift 2
	"$BENCH_BIN" --label "$t" --duration "$DURATION" "$@" >"$WORK/bench.out" 2>"$WORK/bench.err" ||
		rc=$?
	if [ $rc != 0 ]; then
		cat "$WORK/bench.err" >&2
		fail "loopnfs-bench against $t failed (exit $rc)"
	fi
	while IFS= read -r line; do
		verify "$t" "$line"
		PASSED=$((PASSED + 1))
		echo "${line/#RESULT /RESULT round=$round }" >>"$RESULTS"
		echo "  [$t r$round] ${line#RESULT }" >&2
	done < <(grep '^RESULT' "$WORK/bench.out")
}

measure() { # $1 = target, $2 = round
	local t=$1 round=$2 file=big dir=files
	if [ "$(kind_of "$t")" = cipher ]; then file=$ENC_BIG; dir=$ENC_FILES; fi
	case $t in
	passthrough | view)
		if [ "$t" = view ]; then
			start_loopnfsd view --passfile "$WORK/pw" --reverse-encrypt "$WORK/plain"
		else
			start_loopnfsd passthrough --ro "$WORK/plain"
		fi
		local nfs=(--port "$PORT" --export / --read-file "$file" --list-dir "$dir")
		run_bench "$t" "$round" "${nfs[@]}" --qd 1 --workload seqread,randread,readdir
		run_bench "$t" "$round" "${nfs[@]}" --qd 16 --workload seqread,randread
		;;
	gocryptfs | plain)
		local loc=(--read-file "$file" --list-dir "$dir")
		if [ "$t" = gocryptfs ]; then
			start_gocryptfs
			loc+=(--dir "$MNT" --drop-behind)
		else
			loc+=(--dir "$WORK/plain")
		fi
		run_bench "$t" "$round" "${loc[@]}" \
			--workload local-seqread,local-randread,local-readdirplus
		run_bench "$t" "$round" "${loc[@]}" --workload local-seqread@16,local-randread@16
		;;
	esac
	stop_target
	[ "$t" = plain ] || echo "RSS round=$round label=$t vmhwm_kib=$HWM" >>"$RESULTS"
}

# ---- preflight ----
BENCH_BIN=${LOOPNFS_BENCH_BIN:-$BUILD/bench/loopnfs-bench}
for b in "$BENCH_BIN" "$BUILD/loopnfsd" "$BUILD/loopnfs-crypt"; do
	[ -x "$b" ] || fail "$b not built (run 'bash scripts/build.sh' first)"
done
command -v gocryptfs >/dev/null 2>&1 || skip "gocryptfs is not installed (apt-get install gocryptfs)"
command -v fusermount3 >/dev/null 2>&1 || skip "fusermount3 is not installed (apt-get install fuse3)"
[ -c /dev/fuse ] || skip "/dev/fuse is missing: no FUSE on this machine"

WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/loopnfs-crypt-bench.XXXXXX")
MNT="$WORK/mnt"
mkdir -p "$OUT"
RESULTS="$OUT/results.txt"
: >"$RESULTS"

START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "work dir $WORK: making the tree (file $BIG bytes, $FILES files)"
make_tree
log "$ROUNDS round(s), targets: $TARGETS, ${DURATION}s per timed phase"
for round in $(seq "$ROUNDS"); do
	order=$TARGETS
	[ $((round % 2)) = 0 ] && order=$(echo "$TARGETS" | awk '{for (i = NF; i > 0; i--) printf "%s ", $i}')
	for t in $order; do
		log "round $round: $t"
		measure "$t" "$round"
	done
done
ELAPSED=$(($(date +%s) - START))

{
	echo "# loopnfs crypt bench $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, kernel $(uname -r)"
	echo "# rounds=$ROUNDS file=$BIG bytes ($(cipher_size "$BIG") encrypted) files=$FILES duration=${DURATION}s short=$SHORT elapsed=${ELAPSED}s"
	echo "# load average at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# $("$BUILD/loopnfsd" --version 2>&1 | head -1)$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null | sed 's/^/ @ /'); gocryptfs $(dpkg-query -W -f '${Version}' gocryptfs 2>/dev/null || gocryptfs -version 2>&1 | head -1)"
	echo
	awk -f "$ROOT/bench/crypt_summarize.awk" "$RESULTS"
} | tee "$OUT/table.md"
log "raw results: $RESULTS, table: $OUT/table.md (${ELAPSED}s)"
