#!/usr/bin/env bash
# The reference comparison: loopnfs-crypt against Debian's gocryptfs over FUSE.
#   tests/crypt/gocryptfs_compare.sh LOOPNFS_CRYPT
# For a generated tree (every size class, sparse files, names of 1..255 bytes
# incl. multibyte UTF-8 and longnames, deep directories, symlinks, hard links,
# a FIFO): `gocryptfs -reverse` mounted over it and `loopnfs-crypt
# encrypt-tree` must agree name by name and byte by byte (hard links: see
# crypt_file_ivs_of); a copy of the view
# restored by gocryptfs (forward mode) and by `loopnfs-crypt decrypt` must
# equal the original; unchanged files encrypt identically across runs;
# corruption and wrong passphrases are refused. Exit 77 (skipped) without
# gocryptfs or FUSE.
set -uo pipefail
exec </dev/null

TOOL=${1:?usage: gocryptfs_compare.sh LOOPNFS_CRYPT}
skip() {
	echo "SKIP: $*"
	exit 77
}
command -v gocryptfs >/dev/null || skip "gocryptfs is not installed (apt-get install gocryptfs)"
command -v fusermount3 >/dev/null || skip "fusermount3 is not installed (apt-get install fuse3)"
[ -c /dev/fuse ] || skip "/dev/fuse is missing: no FUSE on this machine"

W=$(mktemp -d "${TMPDIR:-/tmp}/loopnfs-crypt-cmp.XXXXXX")
MOUNTS=()
cleanup() {
	local m
	for m in "${MOUNTS[@]}"; do
		fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ------------------------------------------------------------------ run
printf 'correct horse battery staple\n' >"$W/pw"
printf 'wrong\n' >"$W/wrongpw"
make_tree "$W/plain"
gocryptfs -q -init -reverse -scryptn 10 -passfile "$W/pw" "$W/plain" >/dev/null 2>&1 ||
	skip "gocryptfs -init failed"
if ! mount_gc -reverse "$W/plain" "$W/mnt"; then
	skip "gocryptfs -reverse could not mount (FUSE not usable here): $(tail -1 "$W/gocryptfs.log")"
fi
echo "gocryptfs $(gocryptfs -version 2>/dev/null | head -1)"

HL1=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain" hl/first)
HL2=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain" hl/second)
# gocryptfs gives a hard link the IVs of whichever of its paths was opened first.
cat "$W/mnt/$HL1" "$W/mnt/$HL2" >/dev/null

check "encrypt-tree of a gocryptfs -init config" "$TOOL" encrypt-tree --passfile "$W/pw" "$W/plain" "$W/view"
check "view: same names, types, sizes and bytes as gocryptfs -reverse" \
	same_tree "$W/mnt" "$W/view" "$HL1" "$HL2"
# What gocryptfs shows for the second path is the first one's bytes (its
# kernel's inode cache): a hard link's bytes depend on the order of opens.
check "hard links: gocryptfs shows the second path with the first path's bytes" \
	cmp -s "$W/mnt/$HL2" "$W/mnt/$HL1"
# loopnfs gives every name of the file the same bytes, IVs from the inode.
check "hard links: loopnfs shows both names with the same bytes" cmp -s "$W/view/$HL1" "$W/view/$HL2"
check "hard links: not the bytes of either path's own IVs" \
	bash -c "! cmp -s '$W/view/$HL1' '$W/mnt/$HL1'"
check "extpass gives the same view" "$TOOL" encrypt-tree --extpass "cat '$W/pw'" "$W/plain" "$W/view_ext"
check "extpass view equals the first" same_tree "$W/view" "$W/view_ext"

# Restores: the forward gocryptfs over a copy of each view, and loopnfs-crypt decrypt.
copy_tree "$W/view" "$W/copy_ours"
copy_tree "$W/mnt" "$W/copy_gc"
SPARSE=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain" sparse)
cp -a "$W/mnt/$SPARSE" "$W/sparse.cp"
if ! cmp -s "$W/sparse.cp" "$W/view/$SPARSE"; then
	echo "note: cp -a of gocryptfs's -reverse mount copies a sparse file's ciphertext as zeros (SEEK_DATA)"
fi
check "gocryptfs -fsck accepts loopnfs's view" "${GOC[@]}" -fsck "$W/copy_ours"
if mount_gc "$W/copy_ours" "$W/fwd"; then
	check "gocryptfs (forward) restores loopnfs's view to the original" plain_equal "$W/plain" "$W/fwd"
	umount_gc "$W/fwd"
else
	bad "gocryptfs (forward) mounts loopnfs's view"
fi
check "decrypt of gocryptfs's view" "$TOOL" decrypt --passfile "$W/pw" "$W/copy_gc" "$W/restored_gc"
check "decrypt of gocryptfs's view equals the original" plain_equal "$W/plain" "$W/restored_gc"
check "decrypt of loopnfs's view" "$TOOL" decrypt --passfile "$W/pw" "$W/copy_ours" "$W/restored"
check "decrypt of loopnfs's view equals the original" plain_equal "$W/plain" "$W/restored"
check "restored modes: 0600 file, 0700 dir" \
	test "$(stat -c %a "$W/restored/mode0600" "$W/restored/dir0700" | tr '\n' ' ')" = "600 700 "

# Determinism: unchanged files encrypt to the same bytes after other files change.
BIG=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain" big)
cp "$W/view/$BIG" "$W/big.before"
touch "$W/plain/one" && echo new >"$W/plain/newfile" && echo more >>"$W/plain/s4095"
check "second encrypt-tree" "$TOOL" encrypt-tree --passfile "$W/pw" "$W/plain" "$W/view2"
check "unchanged file: identical ciphertext across runs" cmp -s "$W/big.before" "$W/view2/$BIG"
check "unchanged file: gocryptfs shows the same bytes too" cmp -s "$W/big.before" "$W/mnt/$BIG"
NEW=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain" newfile)
S4095=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain" s4095)
check "only the changed and new files differ" \
	bash -c "diff -rq --no-dereference '$W/view' '$W/view2' 2>&1 | grep -v fifo | sort >'$W/changes'; \
		[ \$(wc -l <'$W/changes') -eq 2 ] && grep -qF -- '$S4095' '$W/changes' && grep -qF -- '$NEW' '$W/changes' \
		|| { cat '$W/changes' >&2; false; }"
check "after the change: still what gocryptfs shows" same_tree "$W/mnt" "$W/view2" "$HL1" "$HL2"

# A corrupted block: decrypt names the file and the block, restores the rest, fails.
copy_tree "$W/view" "$W/corrupt"
printf '\xff' | dd of="$W/corrupt/$BIG" bs=1 seek=$((18 + 4128 * 2 + 40)) conv=notrunc status=none
"$TOOL" decrypt --passfile "$W/pw" "$W/corrupt" "$W/restored_bad" 2>"$W/corrupt.err"
rc=$?
check "corrupted block: decrypt exits non-zero" test "$rc" -ne 0
check "corrupted block: the message names the file and block 2" \
	grep -q "$BIG (big): block 2 does not authenticate" "$W/corrupt.err"
check "corrupted block: no wrong data left behind" test ! -e "$W/restored_bad/big"
check "corrupted block: the other files are restored" cmp -s "$W/plain/s4097" "$W/restored_bad/s4097"
if mount_gc "$W/corrupt" "$W/fwd_bad"; then
	check "corrupted block: gocryptfs refuses to read it too" bash -c "! cat '$W/fwd_bad/big' >/dev/null 2>&1"
	umount_gc "$W/fwd_bad"
fi

# Wrong passphrases, both tools.
"$TOOL" encrypt-tree --passfile "$W/wrongpw" "$W/plain" "$W/view_wrong" 2>"$W/wrong.err"
rc=$?
check "wrong passphrase: loopnfs-crypt exits 12, as gocryptfs" test "$rc" -eq 12
check "wrong passphrase: the message says so" grep -q "wrong passphrase" "$W/wrong.err"
check "wrong passphrase: nothing written" test ! -e "$W/view_wrong"
check "wrong passphrase: decrypt refuses too" \
	bash -c "! '$TOOL' decrypt --passfile '$W/wrongpw' '$W/copy_gc' '$W/r_wrong' 2>/dev/null"
check "wrong passphrase: gocryptfs refuses it" \
	bash -c "! gocryptfs -q -reverse -passfile '$W/wrongpw' '$W/plain' '$W/mnt_wrong' 2>/dev/null"
umount_gc "$W/mnt"

# The other way round: a config made by loopnfs-crypt init, mounted by gocryptfs.
make_tree "$W/plain2"
check "init writes a config" "$TOOL" init --scryptn 10 --passfile "$W/pw" "$W/plain2"
cp "$W/plain2/.gocryptfs.reverse.conf" "$W/conf.saved"
check "init refuses to overwrite it" bash -c "! '$TOOL' init --scryptn 10 --passfile '$W/pw' '$W/plain2' 2>/dev/null"
check "init left it unchanged" cmp -s "$W/conf.saved" "$W/plain2/.gocryptfs.reverse.conf"
if mount_gc -reverse "$W/plain2" "$W/mnt2"; then
	HL2=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain2" hl/second)
	HL1=$("$TOOL" encrypt-path --passfile "$W/pw" "$W/plain2" hl/first)
	cat "$W/mnt2/$HL1" >/dev/null
	check "encrypt-tree with loopnfs's config" "$TOOL" encrypt-tree --passfile "$W/pw" "$W/plain2" "$W/view3"
	check "gocryptfs -reverse with loopnfs's config shows the same view" \
		same_tree "$W/mnt2" "$W/view3" "$HL1" "$HL2"
	umount_gc "$W/mnt2"
else
	bad "gocryptfs -reverse mounts a config made by loopnfs-crypt init"
fi
mkdir -p "$W/plain3"
MK=$("$TOOL" init --scryptn 10 --show-masterkey --passfile "$W/pw" "$W/plain3")
check "init prints the master key as gocryptfs does" \
	grep -Eq '^    [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-$' <<<"$MK"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
