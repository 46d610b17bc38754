#!/usr/bin/env bash
# --exclude against Debian's gocryptfs over FUSE.
#   tests/crypt/exclude_compare.sh CRYPT_EXCLUDE_WALK
# For a generated tree and one set of patterns at a time, `gocryptfs -reverse
# -exclude-wildcard ... / -exclude ...` is mounted, a forward gocryptfs is
# mounted over that view to decrypt its names, and the plaintext paths it
# shows must be exactly those crypt_exclude_walk (server/crypt/exclude.c)
# leaves. Patterns loopnfs refuses are checked to be refused. Exit 77
# (skipped) without gocryptfs or FUSE.
set -uo pipefail
exec </dev/null

WALK=${1:?usage: exclude_compare.sh CRYPT_EXCLUDE_WALK}
skip() {
	echo "SKIP: $*"
	exit 77
}
command -v gocryptfs >/dev/null || skip "gocryptfs is not installed (apt-get install gocryptfs)"
command -v fusermount3 >/dev/null || skip "fusermount3 is not installed (apt-get install fuse3)"
[ -c /dev/fuse ] || skip "/dev/fuse is missing: no FUSE on this machine"

W=$(mktemp -d "${TMPDIR:-/tmp}/loopnfs-exclude-cmp.XXXXXX")
MOUNTS=()
cleanup() {
	local m i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		m=${MOUNTS[i]}
		fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT

PASS=0
FAIL=0
ok() {
	PASS=$((PASS + 1))
	echo "ok - $*"
}
bad() {
	FAIL=$((FAIL + 1))
	echo "FAIL - $*"
}

GOC=(gocryptfs -q -passfile "$W/pw")
mount_gc() { # mount_gc [gocryptfs options] SRC MNT
	local mnt=${*: -1}
	mkdir -p "$mnt"
	"${GOC[@]}" "$@" 2>>"$W/gocryptfs.log" || return 1
	MOUNTS+=("$mnt")
}
# Innermost first; the forward mount's process may still hold the view for
# a moment after its own unmount, so the view's is retried.
umount_all() {
	local i try
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		for try in 1 2 3 4 5 6 7 8 9 10; do
			fusermount3 -u "${MOUNTS[i]}" 2>/dev/null && break
			sleep 0.2
		done || fusermount3 -uz "${MOUNTS[i]}"
	done
	MOUNTS=()
}

# ------------------------------------------------------------------ the tree
make_tree() {
	local p=$1 f
	mkdir -p "$p"
	for f in a.txt b.mp3 c.MP3 d.mp3.bak 'x?y' xzy '[x]' x .hidden '#hash' '!bang' \
		'sp ace' 'ü.txt' 'é' foo 'test (1).txt' 'plus+file' 'dollar$' 'caret^x' \
		'brace{1}' 'back\slash' 'star*name' 7seven $'\xff\xfe.bin' 'a.b' axb; do
		printf '%s' "$f" >"$p/$f"
	done
	mkdir -p "$p/bar/foo" "$p/sub" "$p/doc/ppc" "$p/tools/doc" "$p/important/sub" \
		"$p/build" "$p/src" "$p/a/b/c" "$p/a/x" "$p/logs/2023/jan" "$p/emptydir" \
		"$p/deep/foo/bar/foo"
	echo i >"$p/bar/foo/inner.txt"
	echo b >"$p/bar/baz.txt"
	echo f >"$p/sub/foo"
	echo h >"$p/doc/a.html"
	echo h >"$p/doc/ppc/b.html"
	echo h >"$p/tools/doc/c.html"
	echo k >"$p/important/keep.txt"
	echo m >"$p/important/sub/x.mp3"
	echo o >"$p/build/out.o"
	echo b >"$p/src/build"
	echo l >"$p/a/b/c/d.log"
	echo b >"$p/a/x/b"
	echo l >"$p/logs/2023/jan.log"
	echo l >"$p/logs/2023/jan/1.log"
	echo l >"$p/logs/top.log"
	echo d >"$p/deep/foo/bar/foo/file"
	ln -s a.txt "$p/link.txt"
	ln -s bar "$p/link_dir"
}

# Shown plaintext paths, relative, sorted; never the root's config, which the
# forward mount hides and which the listing's caller (the backend) handles.
gc_paths() { (cd "$1" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort); }
our_paths() {
	"$WALK" "$@" >"$W/walk.out" || return 1
	{ grep -avx '\.gocryptfs\.reverse\.conf' "$W/walk.out" || true; } | LC_ALL=C sort
}

N=0
# same DESC ARGS...: gocryptfs -reverse with ARGS and crypt_exclude_walk with
# the same ARGS show the same paths.
same() {
	local desc=$1
	shift
	N=$((N + 1))
	local rev=$W/rev$N fwd=$W/fwd$N
	if ! our_paths "$@" "$W/plain" >"$W/ours$N"; then
		bad "$desc: crypt_exclude_walk failed ($*)"
		return
	fi
	if ! mount_gc -reverse "$@" "$W/plain" "$rev"; then
		bad "$desc: gocryptfs -reverse $* did not mount: $(tail -1 "$W/gocryptfs.log")"
		return
	fi
	if ! mount_gc -config "$W/plain/.gocryptfs.reverse.conf" "$rev" "$fwd"; then
		bad "$desc: forward gocryptfs over the view did not mount"
		umount_all
		return
	fi
	gc_paths "$fwd" >"$W/gc$N"
	umount_all
	if diff "$W/gc$N" "$W/ours$N" >"$W/diff$N"; then
		ok "$desc ($(wc -l <"$W/ours$N") shown)"
	else
		bad "$desc: $* (< gocryptfs, > loopnfs)"
		head -20 "$W/diff$N"
	fi
}

# refused DESC ARGS...: loopnfs refuses the patterns with a message.
refused() {
	local desc=$1
	shift
	"$WALK" "$@" "$W/plain" >/dev/null 2>"$W/refused.err"
	local rc=$?
	if [ "$rc" -eq 2 ] && grep -q 'exclude pattern' "$W/refused.err"; then
		ok "$desc: refused ($(head -1 "$W/refused.err"))"
	else
		bad "$desc: not refused (exit $rc)"
	fi
}

# ------------------------------------------------------------------ run
printf 'correct horse battery staple\n' >"$W/pw"
make_tree "$W/plain"
gocryptfs -q -init -reverse -scryptn 10 -passfile "$W/pw" "$W/plain" >/dev/null 2>&1 ||
	skip "gocryptfs -init failed"
if ! mount_gc -reverse "$W/plain" "$W/probe"; then
	skip "gocryptfs -reverse could not mount (FUSE not usable here): $(tail -1 "$W/gocryptfs.log")"
fi
umount_all
echo "gocryptfs $(gocryptfs -version 2>/dev/null | head -1)"

same "no patterns: the whole tree" -ew '#only a comment'
same "suffix at any depth" -ew '*.mp3'
same "case matters" -ew '*.MP3'
same "a name at any depth, file or directory" -ew foo
same "leading / anchors to the root" -ew /foo
same "trailing /: what is below, never the directory itself" -ew foo/
same "trailing / on a directory tree" -ew build/ -ew src/
same "a/b without wildcards matches at any depth" -ew bar/foo
same "anchored a/b" -ew /bar/foo
same "dir/*.ext is anchored" -ew 'doc/*.html'
same "* does not cross /" -ew '/doc/*'
same "leading **/" -ew '**/foo'
same "trailing /**" -ew 'a/**'
same "/**/ is zero or more directories" -ew 'a/**/d.log'
same "/**/ again" -ew 'logs/**/*.log'
same "** alone" -ew '**'
same "everything but one directory (the man page's example)" -ew '*' -ew '!/important'
same "no re-including below a hidden directory" -ew '*' -ew '!important/keep.txt'
same "later patterns win" -ew '*.txt' -ew '!a.txt'
same "! only undoes an earlier match" -ew '!a.txt' -ew '*.txt'
same "? is a literal question mark" -ew 'x?y'
same "classes" -ew '[xy]*'
same "[!...] is a class with '!' in it" -ew '[!x]*'
same "[^...] negates" -ew '/[^a-z]*'
same "named classes" -ew '[[:digit:]]*'
same "a named class and more" -ew '/[[:digit:]x]*' -ew '[[:upper:][:punct:]]*'
same "named classes are ASCII only, as Go's" -ew '/[[:alpha:]]*' -ew '/[[:punct:]]*'
same "[^/] for any one character" -ew 'x[^/]y'
same "a dot is a dot" -ew 'a.b'
same "a class of one multibyte character" -ew '/[ü]*'
same "a negated class matches one multibyte character" -ew '/[^a]'
same "multibyte literal" -ew 'ü.txt'
same "invalid UTF-8 names match *" -ew '*.bin'
same "escaped #" -ew '\#hash'
same "a leading # is a comment" -ew '#hash'
same "escaped !" -ew '\!bang'
same "!! is the negation of !..." -ew '*' -ew '!!bang'
same "spaces around are dropped" -ew '  sp ace  '
same "escaped space" -ew 'sp\ ace'
same "escaped star" -ew 'star\*name'
same "escaped parentheses" -ew 'test \(1\).txt'
same "escaped + \$ ^ { }" -ew 'plus\+file' -ew 'dollar\$' -ew 'caret\^x' -ew 'brace\{1\}'
same "dot files" -ew '.*'
same "a single /: everything" -ew /
same "symlinks match like files" -ew 'link*'
same "-exclude is an anchored path" -e foo -e bar/baz.txt
same "-exclude comes before -exclude-wildcard" -ew '!a.txt' -e a.txt
same "-exclude of a directory" -e deep/foo
same "several patterns" -ew '*.log' -ew '!jan.log' -ew 'emptydir' -ew '/x*' -ew 'c/'

refused "'+' as gocryptfs's regexp operator" -ew 'a+b'
refused "parentheses" -ew 'test (1).txt'
refused "an unterminated [" -ew '[abc'
refused "* in a class" -ew '[*]'
refused "a backslash before a letter" -ew '\d'
refused "braces" -ew 'x{2}'
refused "an escaped ( glued to **/" -ew '\**/x'
refused "invalid UTF-8" -ew $'\xff*'

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
