#!/bin/bash
# loopnfs kernel tier: scenario suite, run on an NFS mount (or, for
# validating the suite itself, on any local directory).
#
# usage: scenarios.sh --mnt MNT [--dir DIR] [--label L] [--sections LIST]
#                     [--as USER] [--quick] [--tree PATH]
#
#   --mnt MNT       the mount point (the client view)
#   --dir DIR       the exported directory as seen directly by this machine
#                   (the server's view); enables server-side comparisons.
#                   Leave empty when the server's DIR is not reachable.
#   --label L       prefix for check names and the work directory MNT/L
#   --sections LIST comma-separated: files,perms,bigdir,tree,git,concurrent,
#                   sparse
#   --as USER       re-exec as the unprivileged USER (setpriv)
#   --quick         smaller sizes
#   --tree PATH     source tree for the cp -a / diff -r check
#
# Each check prints "PASS name" or "FAIL name: detail".  Exit status is 0
# (failures are counted from the output by the caller).
KT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$KT_DIR/lib.sh"
export LC_ALL=C TZ=UTC0

MNT= DIR= LABEL=root SECTIONS=files AS= QUICK=0 TREE=
ARGS=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --mnt) MNT=$2; shift 2 ;;
        --dir) DIR=$2; shift 2 ;;
        --label) LABEL=$2; shift 2 ;;
        --sections) SECTIONS=$2; shift 2 ;;
        --as) AS=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --tree) TREE=$2; shift 2 ;;
        *) echo "scenarios.sh: bad argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$MNT" ] || { echo "scenarios.sh: --mnt required" >&2; exit 2; }

if [ -n "$AS" ] && [ "$(id -u)" = 0 ]; then
    # Drop --as and re-exec as the user.
    newargs=() skipnext=0
    for a in "${ARGS[@]}"; do
        if [ $skipnext = 1 ]; then skipnext=0; continue; fi
        if [ "$a" = --as ]; then skipnext=1; continue; fi
        newargs+=("$a")
    done
    exec setpriv --reuid="$AS" --regid="$AS" --init-groups \
        env -i HOME=/tmp PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C TZ=UTC0 \
        bash "$KT_DIR/scenarios.sh" "${newargs[@]}"
fi

ME=$(id -un)
IS_ROOT=0; [ "$(id -u)" = 0 ] && IS_ROOT=1
BASE="$MNT/$LABEL"
SBASE=; [ -n "$DIR" ] && SBASE="$DIR/$LABEL"
SCRATCH=$(mktemp -d /tmp/kt-scratch.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$BASE" || { fail "$LABEL.setup" "mkdir $BASE"; exit 0; }

want() { case ",$SECTIONS," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
n() { echo "$LABEL.$1"; }   # check name
# Drop the client's caches so reads go to the server (root only).
dropcaches() { [ $IS_ROOT = 1 ] && { sync; echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; true; }
sum() { sha256sum < "$1" | cut -d' ' -f1; }

# ------------------------------------------------------------------ files
section_files() {
    local d="$BASE/files" sd="${SBASE:+$SBASE/files}"
    info "$LABEL: files ($ME) in $d"
    check "$(n files.mkdir)" mkdir "$d" || return
    cd "$d" || return

    # create / read
    echo "hello nfs" > a.txt
    eq "$(n files.create-read)" "$(cat a.txt 2>&1)" "hello nfs"
    eq "$(n files.create-owner)" "$(stat -c %u a.txt)" "$(id -u)"
    if [ -n "$sd" ]; then
        eq "$(n files.create-server-view)" "$(cat "$sd/a.txt" 2>&1)|$(stat -c %u "$sd/a.txt" 2>&1)" "hello nfs|$(id -u)"
    fi
    # O_EXCL create (NFSv3 CREATE EXCLUSIVE + the client's SETATTR after it)
    check "$(n files.create-excl)" bash -c 'set -o noclobber; umask 022; echo x > excl.txt'
    eq "$(n files.create-excl-attrs)" "$(stat -c %a:%s excl.txt 2>&1)|$(( $(stat -c %Y excl.txt) > $(date +%s) - 300 ))" "644:2|1"
    expect_err "$(n files.create-excl-exists)" "File exists" mkdir excl.txt
    expect_err "$(n files.link-exists)" "File exists" ln a.txt excl.txt
    rm -f excl.txt

    # write / read back a multi-MiB random file
    local mb=8; [ $QUICK = 1 ] && mb=2
    head -c $((mb << 20)) /dev/urandom > "$SCRATCH/rand"
    cp "$SCRATCH/rand" big.bin
    dropcaches
    eq "$(n files.write-read-${mb}M)" "$(sum big.bin)" "$(sum "$SCRATCH/rand")"
    eq "$(n files.write-size)" "$(stat -c %s big.bin)" "$((mb << 20))"

    # overwrite in the middle (no truncation)
    printf 'XYZ' | dd of=big.bin bs=1 seek=1000 conv=notrunc status=none
    printf 'XYZ' | dd of="$SCRATCH/rand" bs=1 seek=1000 conv=notrunc status=none
    dropcaches
    eq "$(n files.overwrite-middle)" "$(sum big.bin)" "$(sum "$SCRATCH/rand")"

    # append
    echo "line2" >> a.txt
    printf 'tail' >> a.txt
    eq "$(n files.append)" "$(cat a.txt)" "$(printf 'hello nfs\nline2\ntail')"
    # O_APPEND from two opens
    : > app.txt
    for i in 1 2 3 4 5; do echo "$i" >> app.txt; done
    eq "$(n files.append-repeat)" "$(tr -d '\n' < app.txt)" "12345"

    # truncate
    cp "$SCRATCH/rand" t.bin
    truncate -s 100 t.bin
    eq "$(n files.truncate-shrink-size)" "$(stat -c %s t.bin)" "100"
    eq "$(n files.truncate-shrink-data)" "$(sha256sum < t.bin | cut -d' ' -f1)" "$(head -c 100 "$SCRATCH/rand" | sha256sum | cut -d' ' -f1)"
    truncate -s 1M t.bin
    dropcaches
    eq "$(n files.truncate-extend-size)" "$(stat -c %s t.bin)" "1048576"
    eq "$(n files.truncate-extend-zeros)" "$(tail -c +101 t.bin | tr -d '\0' | wc -c)" "0"
    : > t.bin
    eq "$(n files.truncate-zero)" "$(stat -c %s t.bin)" "0"
    echo data > t2.bin
    echo new > t2.bin      # O_TRUNC on open
    eq "$(n files.open-trunc)" "$(cat t2.bin)" "new"

    # unlink / mkdir / rmdir
    check "$(n files.unlink)" bash -c 'rm t2.bin && test ! -e t2.bin'
    check "$(n files.mkdir-p-rmdir)" bash -c 'mkdir -p x/y/z && rmdir x/y/z x/y x && test ! -e x'
    expect_err "$(n files.rmdir-nonempty)" "not empty" bash -c 'mkdir -p ne/sub && rmdir ne'
    expect_err "$(n files.unlink-missing)" "No such file" rm nosuchfile

    # rename: files, directories, over existing
    echo one > r1; echo two > r2
    check "$(n files.rename-file)" bash -c 'mv r1 r1b && test ! -e r1 && test "$(cat r1b)" = one'
    check "$(n files.rename-over-existing)" bash -c 'mv -f r1b r2 && test ! -e r1b && test "$(cat r2)" = one'
    mkdir -p rd1/sub; echo f > rd1/sub/f
    check "$(n files.rename-dir)" bash -c 'mv rd1 rd2 && test ! -e rd1 && test "$(cat rd2/sub/f)" = f'
    mkdir rd3
    check "$(n files.rename-dir-over-empty-dir)" bash -c 'mv -T rd2 rd3 && test ! -e rd2 && test "$(cat rd3/sub/f)" = f'
    mkdir -p rd4/keep
    expect_err "$(n files.rename-dir-over-nonempty)" "not empty\|exists" mv -T rd3 rd4
    mkdir -p other
    check "$(n files.rename-cross-dir)" bash -c 'mv r2 other/r2 && test "$(cat other/r2)" = one && test ! -e r2'
    expect_err "$(n files.rename-dir-into-itself)" "nvalid\|subdirectory of itself" mv rd3 rd3/sub/
    # open file survives rename of its name
    check "$(n files.rename-open-file)" bash -c 'echo keep > ro; exec 3<ro; mv ro ro2; test "$(cat <&3)" = keep'

    # hard links
    echo link > l1
    check "$(n files.hardlink)" ln l1 l2
    eq "$(n files.hardlink-nlink)" "$(stat -c %h l1)" "2"
    eq "$(n files.hardlink-same-inode)" "$(stat -c %i l2)" "$(stat -c %i l1)"
    echo more >> l2
    eq "$(n files.hardlink-shared-data)" "$(cat l1)" "$(printf 'link\nmore')"
    rm l1
    eq "$(n files.hardlink-after-unlink)" "$(cat l2 2>&1)|$(stat -c %h l2)" "$(printf 'link\nmore')|1"
    expect_err "$(n files.hardlink-dir-denied)" "not allowed\|not permitted" ln other otherlink

    # symlinks
    check "$(n files.symlink)" ln -s l2 s1
    eq "$(n files.symlink-readlink)" "$(readlink s1)" "l2"
    eq "$(n files.symlink-type)" "$(stat -c %F s1)" "symbolic link"
    eq "$(n files.symlink-follow)" "$(cat s1)" "$(cat l2)"
    ln -s /nonexistent/target s2
    eq "$(n files.symlink-dangling)" "$(readlink s2)|$(test -e s2 && echo exists || echo dangling)" "/nonexistent/target|dangling"
    ln -s other sdir
    eq "$(n files.symlink-to-dir)" "$(cat sdir/r2)" "one"
    local longt; longt=$(printf 'x%.0s' $(seq 1 900))
    ln -s "$longt" slong
    eq "$(n files.symlink-long)" "$(readlink slong | wc -c)" "901"
    if [ -n "$sd" ]; then
        eq "$(n files.symlink-server-view)" "$(readlink "$sd/s1")" "l2"
    fi

    # chmod
    echo m > m1
    chmod 0640 m1
    eq "$(n files.chmod)" "$(stat -c %a m1)" "640"
    chmod 0755 m1
    eq "$(n files.chmod-exec)" "$(stat -c %a m1)" "755"
    mkdir sticky; chmod 1777 sticky
    eq "$(n files.chmod-sticky-dir)" "$(stat -c %a sticky)" "1777"
    if [ -n "$sd" ]; then
        eq "$(n files.chmod-server-view)" "$(stat -c %a "$sd/m1")" "755"
    fi
    local ct0; ct0=$(stat -c %Z m1); sleep 1.1; chmod 0700 m1
    check "$(n files.chmod-updates-ctime)" test "$(stat -c %Z m1)" -gt "$ct0"

    # chown / chgrp
    if [ $IS_ROOT = 1 ]; then
        chown 2001:2000 m1
        eq "$(n files.chown)" "$(stat -c %u:%g m1)" "2001:2000"
        [ -n "$sd" ] && eq "$(n files.chown-server-view)" "$(stat -c %u:%g "$sd/m1")" "2001:2000"
        chown -h 2002:2002 s1
        eq "$(n files.chown-symlink-nofollow)" "$(stat -c %u:%g s1)|$(stat -c %u l2)" "2002:2002|0"
        chown 0:0 m1
    else
        check "$(n files.chgrp-own-group)" chgrp ktshare m1
        eq "$(n files.chgrp-result)" "$(stat -c %G m1)" "ktshare"
        expect_err "$(n files.chown-other-user-denied)" "not permitted" chown root m1
        expect_err "$(n files.chgrp-foreign-group-denied)" "not permitted" chgrp root m1
    fi

    # utimes (touch -d, stat checks)
    echo t > tm
    touch -d '2001-02-03 04:05:06 UTC' tm
    eq "$(n files.utimes-mtime)" "$(stat -c %Y tm)" "981173106"
    eq "$(n files.utimes-atime)" "$(stat -c %X tm)" "981173106"
    touch -m -d '@1234567890.123456789' tm
    eq "$(n files.utimes-mtime-ns)" "$(stat -c %y tm)" "$(TZ=UTC0 date -d @1234567890 '+%Y-%m-%d %H:%M:%S').123456789 +0000"
    eq "$(n files.utimes-atime-unchanged)" "$(stat -c %X tm)" "981173106"
    touch -a -d '@1000000000' tm
    eq "$(n files.utimes-atime-only)" "$(stat -c %X:%Y tm)" "1000000000:1234567890"
    local before; before=$(date +%s); sleep 1.1; touch tm
    check "$(n files.utimes-now)" test "$(stat -c %Y tm)" -ge "$before"
    touch -d '2010-01-01 00:00:00 UTC' other
    eq "$(n files.utimes-dir)" "$(stat -c %Y other)" "1262304000"
    if [ -n "$sd" ]; then
        eq "$(n files.utimes-server-view)" "$(stat -c %Y "$sd/other")" "1262304000"
    fi
    echo x >> tm
    check "$(n files.write-updates-mtime)" test "$(stat -c %Y tm)" -ge "$before"

    # mkfifo
    check "$(n files.mkfifo)" mkfifo -m 0620 ff
    eq "$(n files.mkfifo-type)" "$(stat -c %F:%a ff)" "fifo:620"
    eq "$(n files.mkfifo-works)" "$(timeout 20 bash -c '(echo through-fifo > ff &) ; cat ff')" "through-fifo"
    [ -n "$sd" ] && eq "$(n files.mkfifo-server-view)" "$(stat -c %F "$sd/ff")" "fifo"

    # readdir sees everything created above
    eq "$(n files.readdir)" "$(ls -A | sort | tr '\n' ' ')" "$(printf '%s\n' a.txt app.txt big.bin ff l2 m1 ne other rd3 rd4 s1 s2 sdir slong sticky t.bin tm ro2 | sort | tr '\n' ' ')"
    [ -n "$sd" ] && eq "$(n files.readdir-server-view)" "$(ls -A "$sd" | sort | tr '\n' ' ')" "$(ls -A | sort | tr '\n' ' ')"
    check "$(n files.statfs)" bash -c 'df -P . | tail -1 | awk "{exit !(\$2 > 0)}"'
    cd / || true
}

# ------------------------------------------------------------------ perms
# Run as root; drives ktuser1 / ktuser2.  deny NAME USER WANT 'cmd' runs
# cmd (with {} replaced by the base path) against the mount, and, when the
# server's DIR is available, against DIR too: both must be denied, with the
# error WANT on the mount.
deny() {
    local name=$1 user=$2 want=$3 cmd=$4 out rc sout src
    out=$(as "$user" bash -c "${cmd//\{\}/$BASE/perms}" 2>&1); rc=$?
    if [ -n "$SBASE" ]; then
        sout=$(as "$user" bash -c "${cmd//\{\}/$SBASE/perms}" 2>&1); src=$?
        if [ $src -eq 0 ]; then
            fail "$name" "local DIR allowed it too (test bug?): $cmd"
            return
        fi
    fi
    if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q "$want"; then
        pass "$name"
    else
        fail "$name" "as $user: $cmd: want '$want', got rc=$rc: $(printf '%s' "$out" | tail -2 | tr '\n' '|' | cut -c1-300)${SBASE:+ (DIR gave: $(printf '%s' "$sout" | tail -1 | cut -c1-200))}"
    fi
}
allow() {
    local name=$1 user=$2 cmd=$3
    check "$name" as "$user" bash -c "set -e; ${cmd//\{\}/$BASE/perms}"
}

section_perms() {
    [ $IS_ROOT = 1 ] || { skip "$(n perms)" "needs root"; return; }
    local p="$BASE/perms"
    info "$LABEL: perms in $p"
    mkdir -p "$p" && chmod 0755 "$p"
    # Layout (created by the users themselves, through the mount):
    #   u1home (ktuser1, 0755)  with priv (0600), pub (0644), sub/ (0700)
    #   sticky (root, 1777)     with u1file (ktuser1, 0666)
    #   shared (root:ktshare, 2770) with group file (ktuser1, 0660)
    mkdir "$p/u1home" "$p/sticky" "$p/shared"
    chown ktuser1:ktuser1 "$p/u1home"
    chmod 1777 "$p/sticky"
    chown root:ktshare "$p/shared"; chmod 2770 "$p/shared"
    allow "$(n perms.u1-setup)" ktuser1 'cd {}/u1home && echo secret > priv && chmod 600 priv && echo public > pub && chmod 644 pub && mkdir sub && chmod 700 sub && echo in > sub/f && echo s > ../sticky/u1file && chmod 666 ../sticky/u1file'
    eq "$(n perms.u1-owner)" "$(stat -c %U:%G "$p/u1home/priv")" "ktuser1:ktuser1"

    deny "$(n perms.read-0600-EACCES)" ktuser2 "Permission denied" 'cat {}/u1home/priv'
    deny "$(n perms.write-0644-EACCES)" ktuser2 "Permission denied" 'echo x >> {}/u1home/pub'
    deny "$(n perms.truncate-0644-EACCES)" ktuser2 "Permission denied" 'truncate -s 0 {}/u1home/pub'
    deny "$(n perms.create-in-0755-dir-EACCES)" ktuser2 "Permission denied" 'echo x > {}/u1home/new'
    deny "$(n perms.mkdir-in-0755-dir-EACCES)" ktuser2 "Permission denied" 'mkdir {}/u1home/newdir'
    deny "$(n perms.unlink-in-0755-dir-EACCES)" ktuser2 "Permission denied" 'rm -f {}/u1home/pub'
    deny "$(n perms.rename-in-0755-dir-EACCES)" ktuser2 "Permission denied" 'mv {}/u1home/pub {}/u1home/pub2'
    deny "$(n perms.symlink-in-0755-dir-EACCES)" ktuser2 "Permission denied" 'ln -s x {}/u1home/sl'
    deny "$(n perms.readdir-0700-EACCES)" ktuser2 "Permission denied" 'ls {}/u1home/sub'
    deny "$(n perms.search-0700-EACCES)" ktuser2 "Permission denied" 'cat {}/u1home/sub/f'
    deny "$(n perms.chmod-not-owner-EPERM)" ktuser2 "not permitted" 'chmod 777 {}/u1home/pub'
    deny "$(n perms.chown-EPERM)" ktuser1 "not permitted" 'chown ktuser2 {}/u1home/pub'
    deny "$(n perms.utimes-explicit-not-owner-EPERM)" ktuser2 "not permitted" 'touch -d 2000-01-01 {}/sticky/u1file'
    allow "$(n perms.utimes-now-writable-allowed)" ktuser2 'touch {}/sticky/u1file'
    allow "$(n perms.write-0666-allowed)" ktuser2 'echo more >> {}/sticky/u1file'
    deny "$(n perms.sticky-unlink-EPERM)" ktuser2 "not permitted\|Permission denied" 'rm -f {}/sticky/u1file'
    deny "$(n perms.sticky-rename-EPERM)" ktuser2 "not permitted\|Permission denied" 'mv {}/sticky/u1file {}/sticky/stolen'
    deny "$(n perms.exec-noexec-bit-EACCES)" ktuser1 "Permission denied" 'printf "#!/bin/sh\necho hi\n" > {}/u1home/script && chmod 644 {}/u1home/script && {}/u1home/script'
    allow "$(n perms.exec-allowed)" ktuser1 'chmod 755 {}/u1home/script && test "$({}/u1home/script)" = hi'
    # group access through supplementary group ktshare
    allow "$(n perms.shared-u1-create)" ktuser1 'echo grp > {}/shared/g && chmod 660 {}/shared/g'
    eq "$(n perms.setgid-dir-inherits-group)" "$(stat -c %G "$p/shared/g")" "ktshare"
    allow "$(n perms.shared-u2-rw-via-group)" ktuser2 'test "$(cat {}/shared/g)" = grp && echo u2 >> {}/shared/g'
    allow "$(n perms.shared-u2-mkdir-setgid)" ktuser2 'mkdir {}/shared/d2 && test "$(stat -c %G {}/shared/d2)" = ktshare'
    chmod 0640 "$p/shared/g"
    deny "$(n perms.group-readonly-write-EACCES)" ktuser2 "Permission denied" 'echo x >> {}/shared/g'
    # root (no root squash on this server) can read anything
    eq "$(n perms.root-reads-0600)" "$(cat "$p/u1home/priv" 2>&1)" "secret"
    # owner can still read after dropping write permission; cannot write
    allow "$(n perms.owner-0400-read)" ktuser1 'chmod 400 {}/u1home/pub && cat {}/u1home/pub >/dev/null'
    deny "$(n perms.owner-0400-write-EACCES)" ktuser1 "Permission denied" 'echo x >> {}/u1home/pub'
    # an fd opened for writing stays writable after chmod 0444 (NFS: the
    # server must let the owner write through an open file)
    allow "$(n perms.owner-open-fd-survives-chmod)" ktuser1 'exec 3>{}/u1home/ofd; chmod 444 {}/u1home/ofd; echo ok >&3; exec 3>&-'
    dropcaches
    eq "$(n perms.owner-open-fd-survives-chmod-data)" "$(cat "$p/u1home/ofd" 2>&1)" "ok"
}

# ------------------------------------------------------------------ bigdir
# A 20,000-entry directory listed completely through the mount.  Under TCG a
# create through the kernel client costs ~10 ms, so when the server's DIR is
# reachable most entries are made there directly and KT_BIGDIR_CLIENT (1000)
# of them through the mount; without DIR all are created through the mount.
section_bigdir() {
    local count=20000; [ $QUICK = 1 ] && count=2000
    local viaclient=${KT_BIGDIR_CLIENT:-1000}
    [ -n "$SBASE" ] || viaclient=$count
    local d="$BASE/bigdir" i t0
    info "$LABEL: bigdir $count entries ($viaclient created through the mount)"
    mkdir -p "$d" || { fail "$(n bigdir.mkdir)"; return; }
    if [ "$viaclient" -lt "$count" ]; then
        ( cd "$SBASE/bigdir" && for ((i = viaclient; i < count; i++)); do : > "entry-with-a-longish-name-$i"; done ) \
            || fail "$(n bigdir.create-server-side)"
    fi
    t0=$SECONDS
    ( cd "$d" && for ((i = 0; i < viaclient; i++)); do : > "entry-with-a-longish-name-$i"; done ) \
        || fail "$(n bigdir.create)"
    info "$LABEL: created $viaclient files through the mount in $((SECONDS - t0))s"
    # make sure the client does not answer from a cached listing
    touch "$d"
    t0=$SECONDS
    eq "$(n bigdir.ls-count)" "$(ls "$d" | wc -l)" "$count"
    info "$LABEL: ls took $((SECONDS - t0))s"
    dropcaches
    t0=$SECONDS
    eq "$(n bigdir.ls-l-count)" "$(ls -l "$d" | grep -c entry-with)" "$count"
    info "$LABEL: ls -l (cold) took $((SECONDS - t0))s"
    eq "$(n bigdir.names-complete)" "$(ls "$d" | sed 's/.*-//' | sort -n | awk -v c=$count 'BEGIN{n=0} $1==n{n++} END{print (n==c) ? "complete" : "missing from " n}')" "complete"
    eq "$(n bigdir.find-count)" "$(find "$d" -type f | wc -l)" "$count"
    [ -n "$SBASE" ] && eq "$(n bigdir.server-count)" "$(ls "$SBASE/bigdir" | wc -l)" "$count"
    # rm -rf through the mount (READDIR while REMOVEing) of a smaller
    # directory; the big one is removed server-side when possible.
    local small=$(( count < 2000 ? count : 2000 ))
    mkdir -p "$d.small"
    if [ -n "$SBASE" ]; then
        ( cd "$SBASE/bigdir.small" && for ((i = 0; i < small; i++)); do : > "f$i"; done )
    else
        ( cd "$d.small" && for ((i = 0; i < small; i++)); do : > "f$i"; done )
    fi
    touch "$d.small"
    t0=$SECONDS
    check "$(n bigdir.rm-rf-$small)" bash -c "rm -rf '$d.small' && test ! -e '$d.small'"
    info "$LABEL: rm -rf of $small entries took $((SECONDS - t0))s"
    if [ -n "$SBASE" ]; then
        rm -rf "$SBASE/bigdir"
    else
        rm -rf "$d"
    fi
}

# ------------------------------------------------------------------ tree
section_tree() {
    local src=${TREE:-/usr/include}
    local d="$BASE/tree"
    [ -d "$src" ] || { skip "$(n tree)" "no $src"; return; }
    info "$LABEL: cp -a $src ($(du -sh "$src" | cut -f1), $(find "$src" | wc -l) entries)"
    mkdir -p "$d"
    local t0=$SECONDS
    check "$(n tree.cp-a)" cp -a "$src" "$d/"
    info "$LABEL: cp -a took $((SECONDS - t0))s"
    local copy="$d/$(basename "$src")"
    dropcaches
    t0=$SECONDS
    check "$(n tree.diff-r)" diff -r --no-dereference "$src" "$copy"
    info "$LABEL: diff -r took $((SECONDS - t0))s"
    # metadata preserved by cp -a: type, mode, size, mtime, owner, link target
    # (directory sizes are filesystem-specific and not compared)
    local fmt='%P %y %m %T@ %l' own=' %u %g'
    [ $IS_ROOT = 1 ] || own=
    check "$(n tree.metadata)" bash -c "diff <(cd '$src' && find . \\( -type d -printf '$fmt$own\\n' \\) -o -printf '$fmt %s$own\\n' | sort) <(cd '$copy' && find . \\( -type d -printf '$fmt$own\\n' \\) -o -printf '$fmt %s$own\\n' | sort)"
    if [ -n "$SBASE" ]; then
        check "$(n tree.server-diff-r)" diff -r --no-dereference "$src" "$SBASE/tree/$(basename "$src")"
    fi
}

# ------------------------------------------------------------------ git
section_git() {
    command -v git >/dev/null || { skip "$(n git)" "git not installed"; return; }
    local d="$BASE/git"
    info "$LABEL: git in $d"
    export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=kt GIT_AUTHOR_EMAIL=kt@example.invalid \
        GIT_COMMITTER_NAME=kt GIT_COMMITTER_EMAIL=kt@example.invalid HOME=$SCRATCH
    git config --global init.defaultBranch main
    git config --global safe.directory '*'
    check "$(n git.init)" git init -q "$d" || return
    (
        cd "$d" || exit 1
        for c in 1 2 3 4 5; do
            mkdir -p "dir$c"
            seq 1 $((c * 1000)) > "dir$c/file$c.txt"
            echo "commit $c" >> README
            git add -A && git commit -q -m "commit $c" || exit 1
        done
        git mv README README.md && git commit -q -m rename || exit 1
        git rm -q dir1/file1.txt && git commit -q -m rm || exit 1
    ) > "$SCRATCH/git.out" 2>&1
    check "$(n git.commits)" test "$(git -C "$d" rev-list --count HEAD 2>/dev/null)" = 7 \
        || sed 's/^/    /' "$SCRATCH/git.out" | tail -5
    check "$(n git.status-clean)" test -z "$(git -C "$d" status --porcelain 2>&1)"
    check "$(n git.fsck)" git -C "$d" fsck --strict --no-progress
    check "$(n git.gc)" git -C "$d" gc -q --prune=now
    check "$(n git.fsck-after-gc)" git -C "$d" fsck --strict --no-progress
    check "$(n git.log)" bash -c "git -C '$d' log --oneline | grep -q 'commit 3'"
    check "$(n git.clone-local)" git clone -q "$d" "$d.clone"
    check "$(n git.clone-content)" diff -r -x .git "$d" "$d.clone"
}

# ------------------------------------------------------------------ concurrent
section_concurrent() {
    local nw=4 mb=8; [ $QUICK = 1 ] && mb=2
    local d="$BASE/concurrent"
    info "$LABEL: $nw concurrent writers x ${mb} MiB, + $nw writers into one file"
    mkdir -p "$d"
    local i pids=()
    for ((i = 0; i < nw; i++)); do
        head -c $((mb << 20)) /dev/urandom > "$SCRATCH/w$i"
    done
    # separate files, each written in 64 KiB chunks
    for ((i = 0; i < nw; i++)); do
        dd if="$SCRATCH/w$i" of="$d/w$i" bs=64k status=none conv=fsync &
        pids+=($!)
    done
    local bad=0
    for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
    eq "$(n concurrent.writers-exit)" "$bad" "0"
    dropcaches
    local ok=1
    for ((i = 0; i < nw; i++)); do
        [ "$(sum "$d/w$i")" = "$(sum "$SCRATCH/w$i")" ] || { ok=0; info "w$i checksum mismatch"; }
        if [ -n "$SBASE" ] && [ "$(sum "$SBASE/concurrent/w$i")" != "$(sum "$SCRATCH/w$i")" ]; then
            ok=0; info "w$i server-side checksum mismatch"
        fi
    done
    eq "$(n concurrent.separate-files-checksums)" "$ok" 1
    # disjoint regions of one file, written concurrently
    cat "$SCRATCH"/w? > "$SCRATCH/all"
    : > "$d/shared"
    pids=()
    for ((i = 0; i < nw; i++)); do
        dd if="$SCRATCH/w$i" of="$d/shared" bs=1M seek=$((i * mb)) conv=notrunc,fsync status=none &
        pids+=($!)
    done
    bad=0
    for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
    dropcaches
    eq "$(n concurrent.one-file-regions-checksum)" "$bad:$(sum "$d/shared")" "0:$(sum "$SCRATCH/all")"
    [ -n "$SBASE" ] && eq "$(n concurrent.one-file-server-checksum)" "$(sum "$SBASE/concurrent/shared")" "$(sum "$SCRATCH/all")"
    # concurrent appenders (O_APPEND from one client is serialised by the
    # client's inode lock): every line must be present exactly once
    : > "$d/appendlog"
    pids=()
    for ((i = 0; i < nw; i++)); do
        ( for j in $(seq 1 200); do echo "writer$i line$j" >> "$d/appendlog"; done ) &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    dropcaches
    eq "$(n concurrent.appenders-lines)" "$(sort -u "$d/appendlog" | wc -l):$(wc -l < "$d/appendlog")" "$((nw * 200)):$((nw * 200))"
    rm -f "$d"/w? "$d/shared"
}

# ------------------------------------------------------------------ sparse
section_sparse() {
    local d="$BASE/sparse" f
    mkdir -p "$d"
    f="$d/sparse2g"
    local size=$((2 << 30))
    info "$LABEL: 2 GiB sparse file, 1 MiB written at the end"
    head -c $((1 << 20)) /dev/urandom > "$SCRATCH/tail"
    check "$(n sparse.write-at-end)" dd if="$SCRATCH/tail" of="$f" bs=1M seek=2047 conv=notrunc,fsync status=none
    eq "$(n sparse.size)" "$(stat -c %s "$f")" "$size"
    dropcaches
    eq "$(n sparse.read-tail)" "$(tail -c $((1 << 20)) "$f" | sha256sum | cut -d' ' -f1)" "$(sum "$SCRATCH/tail")"
    eq "$(n sparse.read-hole)" "$(dd if="$f" bs=1M skip=1024 count=4 status=none | tr -d '\0' | wc -c)" "0"
    eq "$(n sparse.read-across-boundary)" "$(dd if="$f" bs=1M skip=2046 count=2 status=none | sha256sum | cut -d' ' -f1)" \
        "$( { head -c $((1 << 20)) /dev/zero; cat "$SCRATCH/tail"; } | sha256sum | cut -d' ' -f1)"
    if [ -n "$SBASE" ]; then
        # the server must not have filled the hole with zeros
        check "$(n sparse.server-file-is-sparse)" test "$(du -k "$SBASE/sparse/sparse2g" | cut -f1)" -lt 65536
    fi
    # 64 MiB read at 8 spread offsets (all holes)
    local off bad=0
    for off in 0 256 512 768 1024 1280 1536 1792; do
        [ "$(dd if="$f" bs=1M skip=$off count=8 status=none | tr -d '\0' | wc -c)" = 0 ] || bad=$((bad + 1))
    done
    eq "$(n sparse.read-spread-holes)" "$bad" "0"
    if [ "${KT_SPARSE_FULL:-0}" = 1 ]; then
        # read the whole file back through the mount (over 5 minutes under
        # TCG, hence opt-in)
        local want t0=$SECONDS
        want=$( { head -c $((size - (1 << 20))) /dev/zero; cat "$SCRATCH/tail"; } | sha256sum | cut -d' ' -f1)
        dropcaches
        eq "$(n sparse.read-all-2g)" "$(sha256sum < "$f" | cut -d' ' -f1)" "$want"
        info "$LABEL: reading 2 GiB back took $((SECONDS - t0))s"
    fi
    rm -f "$f"
}

IFS=, read -r -a secs <<< "$SECTIONS"
for s in "${secs[@]}"; do
    case "$s" in
        files|perms|bigdir|tree|git|concurrent|sparse)
            t0s=$SECONDS
            "section_$s"
            info "$LABEL: section $s took $((SECONDS - t0s))s" ;;
        *) fail "$LABEL.unknown-section-$s" ;;
    esac
done
exit 0
