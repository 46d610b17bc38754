# Shared by the encrypted view's shell tests (sourced; needs $W set): the
# pass/fail counters, gocryptfs mounts, the generated tree and the tree
# comparisons.

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
check() { # check DESC CMD...
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else bad "$desc"; fi
}

GOC=(gocryptfs -q -passfile "$W/pw")
mount_gc() { # mount_gc [gocryptfs options] SRC MNT
	local mnt=${*: -1}
	mkdir -p "$mnt"
	"${GOC[@]}" "$@" 2>>"$W/gocryptfs.log" || return 1
	MOUNTS+=("$mnt")
}
umount_gc() {
	fusermount3 -u "$1"
	local m keep=()
	for m in "${MOUNTS[@]}"; do [ "$m" = "$1" ] || keep+=("$m"); done
	MOUNTS=("${keep[@]}")
}

# ------------------------------------------------------------------ the tree
make_tree() {
	local p=$1 n
	mkdir -p "$p"
	: >"$p/empty"
	printf 'x' >"$p/one"
	head -c 4095 /dev/urandom >"$p/s4095"
	head -c 4096 /dev/urandom >"$p/s4096"
	head -c 4097 /dev/urandom >"$p/s4097"
	head -c $((3 * 1024 * 1024 + 123)) /dev/urandom >"$p/big"
	truncate -s 10M "$p/sparse"
	truncate -s 5M "$p/sparse_mid" && printf 'data in the middle' | dd of="$p/sparse_mid" bs=1 seek=2000000 conv=notrunc status=none
	mkdir "$p/names"
	for n in $(seq 1 255); do
		printf '%d' "$n" >"$p/names/$(printf 'n%.0s' $(seq 1 "$n"))"
	done
	printf u >"$p/names/$(printf '\xc3\xbc%.0s' $(seq 1 127))" # 254 bytes of ü
	printf e >"$p/names/$(printf '\xf0\x9f\x94\x91%.0s' $(seq 1 63))" # 252 bytes of 4-byte emoji
	printf j >"$p/names/日本語のファイル名 with spaces"
	printf c >"$p/gocryptfs.diriv"   # plaintext names that look like the view's own
	mkdir -p "$p/sub" && printf c >"$p/sub/gocryptfs.conf" && printf c >"$p/sub/.gocryptfs.reverse.conf"
	local d=$p/deep
	for n in $(seq 1 40); do d=$d/level$n; done
	mkdir -p "$d" && echo bottom >"$d/file"
	ln -s one "$p/link_rel"
	ln -s /etc/hostname "$p/link_abs"
	ln -s does/not/exist "$p/link_dangling"
	ln -s "$(printf 't%.0s' $(seq 1 3000))" "$p/link_long"
	ln -s deep "$p/link_dir"
	mkdir "$p/hl" && echo "linked" >"$p/hl/first" && ln "$p/hl/first" "$p/hl/second"
	mkfifo "$p/fifo"
	printf private >"$p/mode0600" && chmod 600 "$p/mode0600"
	mkdir "$p/dir0700" && chmod 700 "$p/dir0700"
}

# ------------------------------------------------------------------ comparison
# Type, size (not for directories), path of every entry, sorted.
listing() { (cd "$1" && find . \( -type d -printf 'd - %p\n' \) -o -printf '%y %s %p\n' | LC_ALL=C sort); }

# Same names, types and sizes; same bytes in every regular file and symlink
# target, except the paths given after the two trees (compared by the caller).
same_tree() {
	local a=$1 b=$2
	shift 2
	diff <(listing "$a") <(listing "$b") >"$W/listing.diff" || {
		head -20 "$W/listing.diff"
		return 1
	}
	same_contents "$a" "$b" "$@"
}

same_contents() {
	local a=$1 b=$2 f
	shift 2
	while IFS= read -r -d '' f; do
		case " $* " in *" ${f#./} "*) continue ;; esac
		if [ -L "$a/$f" ]; then
			[ "$(readlink "$a/$f")" = "$(readlink "$b/$f")" ] || {
				echo "symlink differs: $f"
				return 1
			}
		elif [ -f "$a/$f" ]; then
			cmp -s "$a/$f" "$b/$f" || {
				echo "content differs: $f"
				return 1
			}
		fi
	done < <(cd "$a" && find . ! -type d -print0)
}

# The original, less its root config (which no restore shows), and a restored tree.
plain_equal() {
	diff <(listing "$1" | grep -v ' \./\.gocryptfs\.reverse\.conf$') <(listing "$2") >"$W/listing.diff" || {
		head -20 "$W/listing.diff"
		return 1
	}
	same_contents "$1" "$2" .gocryptfs.reverse.conf
}

# A copy that reads every byte. Not cp -a: coreutils 9.1 asks the FUSE mount
# for SEEK_DATA, which gocryptfs 2.3 -reverse answers with the plaintext's
# holes, so a sparse file's ciphertext is copied as zeros (both tools refuse
# such a copy; see the note below).
copy_tree() { mkdir -p "$2" && (cd "$1" && tar cf - .) | (cd "$2" && tar xpf -); }

