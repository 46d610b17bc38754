#!/usr/bin/env bash
# The encrypted view served over NFS, read through an independent client.
#   tests/crypt/nfs_view.sh LOOPNFSD LOOPNFS_CRYPT NFS_MIRROR
# loopnfsd --reverse-encrypt over a generated tree (lib.sh's: every size
# class, sparse files, names of 1..255 bytes incl. UTF-8 and longnames,
# 40-deep directories, symlinks, hard links, a FIFO), copied whole through
# libnfs (nfs_mirror, READs of odd sizes at offsets inside blocks): it must
# equal `gocryptfs -reverse` over FUSE on the same tree and config, name by
# name and byte by byte (hard links: every name the same bytes, IVs from
# the inode), and `loopnfs-crypt encrypt-tree` entirely; sizes in the
# listing and in GETATTR must be the bytes read; copies restore to the
# original with gocryptfs (forward) and loopnfs-crypt decrypt, and pass
# gocryptfs -fsck; across a restart, and after other files change, an
# unchanged file's ciphertext is the same; a wrong passphrase, a missing
# config and a directory without one are refused at start. Exit 77
# (skipped) without gocryptfs or FUSE.
set -uo pipefail
exec </dev/null

LOOPNFSD=${1:?usage: nfs_view.sh LOOPNFSD LOOPNFS_CRYPT NFS_MIRROR}
TOOL=${2:?}
MIRROR=${3:?}
skip() {
	echo "SKIP: $*"
	exit 77
}
command -v gocryptfs >/dev/null || skip "gocryptfs is not installed (apt-get install gocryptfs)"
command -v fusermount3 >/dev/null || skip "fusermount3 is not installed (apt-get install fuse3)"
[ -c /dev/fuse ] || skip "/dev/fuse is missing: no FUSE on this machine"

W=$(mktemp -d "${TMPDIR:-/tmp}/loopnfs-nfs-view.XXXXXX")
MOUNTS=()
SERVER=
cleanup() {
	local m
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
	for m in "${MOUNTS[@]}"; do
		fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=
# start_server LOG ARGS...: loopnfsd on a free loopback port; PORT from its ready line.
start_server() {
	local log=$1
	shift
	"$LOOPNFSD" --no-rpcbind -p 0 -s "$W/state" "$@" >"$log" 2>&1 &
	SERVER=$!
	local i
	for i in $(seq 1 100); do
		PORT=$(sed -n 's/.*ready port=\([0-9]*\).*/\1/p' "$log" | head -1)
		[ -n "$PORT" ] && return 0
		kill -0 "$SERVER" 2>/dev/null || break
		sleep 0.1
	done
	SERVER=
	return 1
}
stop_server() {
	kill "$SERVER" && wait "$SERVER"
	SERVER=
}
# A start that must fail: exit status non-zero, and the message grep finds.
refused() { # refused PATTERN ARGS...
	local pat=$1
	shift
	"$LOOPNFSD" --no-rpcbind -p 0 -s "$W/state" "$@" >"$W/refused.log" 2>&1 &
	local pid=$! i
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		wait "$pid"
		echo "still running"
		return 1
	fi
	wait "$pid" && return 1
	grep -q -- "$pat" "$W/refused.log" || {
		cat "$W/refused.log"
		return 1
	}
}
url() { echo "nfs://127.0.0.1/?nfsport=$PORT&mountport=$PORT&version=3"; }
# The client is not under test: libnfs 5.0.2 leaks 24 bytes parsing a URL of "/" (ASan builds).
MIRROR_ASAN="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
mirror() { ASAN_OPTIONS=$MIRROR_ASAN MIRROR_CHUNK=${2:-5000} "$MIRROR" "$(url)" "$1" >"$1.manifest"; }

# ------------------------------------------------------------------ run
printf 'correct horse battery staple\n' >"$W/pw"
printf 'wrong\n' >"$W/wrongpw"
make_tree "$W/plain"
gocryptfs -q -init -reverse -scryptn 10 -passfile "$W/pw" "$W/plain" >/dev/null 2>&1 ||
	skip "gocryptfs -init failed"
if ! mount_gc -reverse "$W/plain" "$W/mnt"; then
	skip "gocryptfs -reverse could not mount (FUSE not usable here): $(tail -1 "$W/gocryptfs.log")"
fi
HL1=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain" hl/first)
HL2=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain" hl/second)
BIG=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain" big)

check "loopnfsd --reverse-encrypt starts" start_server "$W/server.log" --passfile "$W/pw" \
	--reverse-encrypt "$W/plain"
check "its log says what it serves" grep -q "serving the encrypted view of $W/plain (read-only" "$W/server.log"
mkdir "$W/nfs"
check "the whole view copies through libnfs, sizes matching the bytes read" mirror "$W/nfs"
check "the view over NFS: same names, types, sizes and bytes as gocryptfs -reverse" \
	same_tree "$W/mnt" "$W/nfs" "$HL1" "$HL2"
check "hard links: both names show the same bytes over NFS" cmp -s "$W/nfs/$HL1" "$W/nfs/$HL2"
check "encrypt-tree" "$TOOL" encrypt-tree --passfile "$W/pw" "$W/plain" "$W/view"
check "the view over NFS equals encrypt-tree's, hard links included" same_tree "$W/view" "$W/nfs"
check "the config shows as gocryptfs.conf, byte for byte" \
	cmp -s "$W/plain/.gocryptfs.reverse.conf" "$W/nfs/gocryptfs.conf"
mkdir "$W/nfs_big"
check "read in 1 MiB READs: the same bytes" mirror "$W/nfs_big" 1048576
check "1 MiB READs equal 5000-byte READs" same_tree "$W/nfs" "$W/nfs_big"

# Restores of a copy of what NFS showed.
copy_tree "$W/nfs" "$W/copy"
check "gocryptfs -fsck accepts the NFS view's copy" "${GOC[@]}" -fsck "$W/copy"
if mount_gc "$W/copy" "$W/fwd"; then
	check "gocryptfs (forward) restores the NFS view's copy to the original" plain_equal "$W/plain" "$W/fwd"
	umount_gc "$W/fwd"
else
	bad "gocryptfs (forward) mounts the NFS view's copy"
fi
check "loopnfs-crypt decrypt of the NFS view's copy" "$TOOL" decrypt --passfile "$W/pw" "$W/copy" "$W/restored"
check "... equals the original" plain_equal "$W/plain" "$W/restored"

# Across a restart, and after other files change: unchanged files, same bytes.
stop_server
touch "$W/plain/one" && echo new >"$W/plain/newfile" && echo more >>"$W/plain/s4095"
check "restart with the passphrase from --extpass" start_server "$W/server2.log" \
	--extpass "cat '$W/pw'" --reverse-encrypt "$W/plain"
mkdir "$W/nfs2"
check "the view copies again" mirror "$W/nfs2"
check "unchanged big file: identical ciphertext across the restart" cmp -s "$W/nfs/$BIG" "$W/nfs2/$BIG"
check "hard link: identical ciphertext across the restart" cmp -s "$W/nfs/$HL1" "$W/nfs2/$HL1"
NEW=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain" newfile)
S4095=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain" s4095)
check "only the changed and new files differ" \
	bash -c "diff -rq --no-dereference '$W/nfs' '$W/nfs2' 2>&1 | grep -v fifo | sort >'$W/changes'; \
		[ \$(wc -l <'$W/changes') -eq 2 ] && grep -qF -- '$S4095' '$W/changes' && grep -qF -- '$NEW' '$W/changes' \
		|| { cat '$W/changes' >&2; false; }"
check "after the change: still what gocryptfs shows" same_tree "$W/mnt" "$W/nfs2" "$HL1" "$HL2"
stop_server

# --exclude: the same paths left out as gocryptfs -reverse -exclude-wildcard leaves out.
echo tmp >"$W/plain/x.tmp" && echo tmp >"$W/plain/sub/y.tmp" && echo keep >"$W/plain/sub/keep.tmp"
EXCL=('*.tmp' '!keep.tmp' 'deep/' '/s4095' 'names/n*nnnnnnnnnn')
EW=()
for p in "${EXCL[@]}"; do EW+=(-exclude-wildcard "$p"); done
EX=()
for p in "${EXCL[@]}"; do EX+=(--exclude "$p"); done
if mount_gc -reverse "${EW[@]}" "$W/plain" "$W/mnt_ex"; then
	check "loopnfsd with --exclude" start_server "$W/server_ex.log" --passfile "$W/pw" \
		--reverse-encrypt "$W/plain" "${EX[@]}"
	mkdir "$W/nfs_ex"
	check "the view with exclusions copies" mirror "$W/nfs_ex"
	check "exclusions: what gocryptfs -exclude-wildcard shows, name by name and byte by byte" \
		same_tree "$W/mnt_ex" "$W/nfs_ex" "$HL1" "$HL2"
	XTMP=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain" x.tmp)
	KEEP=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain" sub/keep.tmp)
	check "exclusions: x.tmp is gone, sub/keep.tmp is back" \
		bash -c "[ ! -e '$W/nfs_ex/$XTMP' ] && [ -f '$W/nfs_ex/$KEEP' ]"
	stop_server
	umount_gc "$W/mnt_ex"
else
	bad "gocryptfs -reverse -exclude-wildcard mounts"
fi
check "a malformed --exclude pattern: refused at start" \
	refused "exclude" --passfile "$W/pw" --reverse-encrypt "$W/plain" --exclude 'a[b'

# Refusals at start.
check "wrong passphrase: refused at start, saying so" \
	refused "wrong passphrase" --passfile "$W/wrongpw" --reverse-encrypt "$W/plain"
mkdir "$W/noconf"
check "no config: refused, naming loopnfs-crypt init" \
	refused "loopnfs-crypt init" --passfile "$W/pw" --reverse-encrypt "$W/noconf"
check "no passphrase source and no terminal: refused, naming the options" \
	refused "passfile" --reverse-encrypt "$W/plain"
check "--exclude without --reverse-encrypt: refused" refused "exclude" --exclude '*.tmp' "$W/plain"

# The exports file: encrypt=reverse beside the plain export of the same directory.
cat >"$W/exports" <<EOF
$W/plain 127.0.0.1(ro,insecure,no_root_squash)
$W/plain 127.0.0.1(insecure,no_root_squash,encrypt=reverse,passfile=$W/pw,name=plain.enc)
EOF
check "an exports file with the plain and the encrypted export of one directory" \
	start_server "$W/server3.log" -c "$W/exports"
mkdir "$W/nfs3"
check "the synthesized root holds both: the encrypted one copies" \
	bash -c "ASAN_OPTIONS='$MIRROR_ASAN' MIRROR_CHUNK=7000 '$MIRROR' 'nfs://127.0.0.1/plain.enc?nfsport=$PORT&mountport=$PORT&version=3' '$W/nfs3' >/dev/null"
"$TOOL" encrypt-tree --passfile "$W/pw" "$W/plain" "$W/view_now"
check "... and equals encrypt-tree's view of the tree as it is now" same_tree "$W/view_now" "$W/nfs3"
stop_server
printf '%s 127.0.0.1(rw,insecure,encrypt=reverse,passfile=%s)\n' "$W/plain" "$W/pw" >"$W/exports_rw"
check "encrypt=reverse with rw: refused with FILE:LINE" refused "exports_rw:1: .*read-only" -c "$W/exports_rw"
umount_gc "$W/mnt"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
