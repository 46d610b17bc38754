# loopnfs kernel tier: shared shell helpers (sourced by guest.sh,
# scenarios.sh and restart.sh).  Every check prints exactly one line
# "PASS name" or "FAIL name: detail" on stdout.

KT_LOG=${KT_LOG:-/dev/null}

pass() { echo "PASS $1"; }
fail() {
    local n=$1; shift
    echo "FAIL $n${*:+: $*}"
}
skip() {
    local n=$1; shift
    echo "SKIP $n${*:+: $*}"
}
info() { echo "INFO $*"; }

# summarize TEXT: first 3 lines (and the line count) of a command's output
summarize() {
    local lines
    lines=$(printf '%s\n' "$1" | grep -c .)
    printf '%s' "$1" | head -3 | tr '\n' '|' | cut -c1-400
    [ "$lines" -gt 3 ] && printf ' ... (%s lines)' "$lines"
}

# check NAME CMD...: PASS if CMD exits 0; on failure print its output.
check() {
    local name=$1; shift
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then
        pass "$name"
    else
        fail "$name" "rc=$rc: $(summarize "$out")"
    fi
    return $rc
}

# check_sh NAME 'shell snippet': like check, but runs the snippet in bash -c
# (with set -e and pipefail) so a snippet can hold several commands.
check_sh() {
    local name=$1 snippet=$2
    check "$name" bash -c "set -e -o pipefail; $snippet"
}

# expect_err NAME 'ERRTEXT' CMD...: PASS if CMD fails and its error
# output contains ERRTEXT (e.g. "Permission denied" for EACCES,
# "Operation not permitted" for EPERM).
expect_err() {
    local name=$1 want=$2; shift 2
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q "$want"; then
        pass "$name"
        return 0
    fi
    fail "$name" "expected failure with '$want', got rc=$rc: $(printf '%s' "$out" | tail -3 | tr '\n' '|' | cut -c1-300)"
    return 1
}

# eq NAME GOT WANT
eq() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1" "got '$2', want '$3'"
        return 1
    fi
}

# as USER CMD...: run CMD as an unprivileged user (uid, gid, supplementary
# groups from /etc/group), with a sane environment.
as() {
    local u=$1; shift
    setpriv --reuid="$u" --regid="$u" --init-groups \
        env -i HOME=/tmp PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"
}

# wait_for SECS CMD...: poll CMD every 0.5 s until it succeeds.
wait_for() {
    local secs=$1; shift
    local end=$(( $(date +%s) + secs ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.5
    done
}
