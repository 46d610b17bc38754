#!/usr/bin/env bash
# The exports file on a LAN, in network namespaces this test makes and
# removes: a server namespace with a veth pair to each of two client
# namespaces (10.77.1.0/24 and 10.77.2.0/24, inside them only). Client A
# may write "one", read "two" and write "three"; client B may write "one",
# read "two", and must be refused "three": at MNT, in the root's listing,
# and for a handle of "three" that A obtained and B replays. "four" names A
# by host name and B by a wildcard, resolved through a hosts file that only
# the server's own mount namespace sees.
#   lan.sh LOOPNFSD LAN_CLIENT
set -uo pipefail
exec </dev/null

LOOPNFSD=${1:?loopnfsd path}
CLIENT=${2:?lan_client path}
[ "$(id -u)" = 0 ] || { echo "lan: skipped (needs root)"; exit 77; }
command -v ip >/dev/null || { echo "lan: skipped (no ip command)"; exit 77; }

TAG=lnfs$$
S=$TAG-s A=$TAG-a B=$TAG-b
WORK=$(mktemp -d /tmp/loopnfs-lan.XXXXXX)
SERVER_PID=
PASS=0 FAIL=0

cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	for ns in "$S" "$A" "$B"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok: $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }
# expect WHAT WANT GOT
expect() { if [ "$3" = "$2" ]; then ok "$1"; else bad "$1: got '$3', want '$2'"; fi; }

ip netns add "$S" && ip netns add "$A" && ip netns add "$B" || { echo "lan: skipped (no netns)"; exit 77; }
for c in a b; do
	n=$([ $c = a ] && echo 1 || echo 2)
	ns=$([ $c = a ] && echo "$A" || echo "$B")
	ip link add "s$c$$" netns "$S" type veth peer name "c$c$$" netns "$ns" || exit 1
	ip -n "$S" addr add "10.77.$n.1/24" dev "s$c$$"
	ip -n "$ns" addr add "10.77.$n.2/24" dev "c$c$$"
	ip -n "$S" link set "s$c$$" up
	ip -n "$ns" link set "c$c$$" up
	ip -n "$ns" link set lo up
done
ip -n "$S" link set lo up

mkdir -p "$WORK"/one "$WORK"/two "$WORK"/three "$WORK"/four "$WORK/state"
chmod 1777 "$WORK"/one "$WORK"/two "$WORK"/three "$WORK"/four
printf '127.0.0.1 localhost\n10.77.1.2 clienta.lan\n10.77.2.2 clientb.lan\n' > "$WORK/hosts"
echo hi > "$WORK/three/secret"
cat > "$WORK/exports" <<CONF
# the LAN of the test
$WORK/one    10.77.1.2(rw,no_root_squash) 10.77.2.2(rw,no_root_squash)
$WORK/two    10.77.0.0/16(ro)
$WORK/three  10.77.1.2(rw)
$WORK/four   clienta.lan(rw,no_root_squash) *b.lan(ro)
CONF

# The hosts file is bound over /etc/hosts in a private mount namespace: the host's stays.
ip netns exec "$S" unshare -m --propagation private sh -c \
	'mount --bind "$1/hosts" /etc/hosts && shift && exec "$@"' sh "$WORK" \
	"$LOOPNFSD" -c "$WORK/exports" --listen 10.77.1.1 --listen 10.77.2.1 \
	--port 2049 --no-rpcbind --state-dir "$WORK/state" >"$WORK/out" 2>"$WORK/err" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "ready" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
grep -q "ready" "$WORK/out" || { cat "$WORK/err"; bad "server did not start"; echo "$PASS passed, $FAIL failed"; exit 1; }

# call NS SERVER_ADDR CMD ARGS: the client's output
call() { local ns=$1 addr=$2; shift 2; ip netns exec "$ns" "$CLIENT" "$addr" 2049 "$@"; }
status() { sed -n 's/^status=\([0-9]*\).*/\1/p' | head -n 1; }
fh() { sed -n 's/.* fh=\([0-9a-f]*\).*/\1/p' | head -n 1; }

# Client A: rw on one, ro on two, rw on three.
out=$(call "$A" 10.77.1.1 mnt "$WORK/one"); expect "A mounts one" 0 "$(status <<<"$out")"
one_a=$(fh <<<"$out")
expect "A creates in one" 0 "$(call "$A" 10.77.1.1 create "$one_a" from-a | status)"
out=$(call "$A" 10.77.1.1 mnt "$WORK/two"); expect "A mounts two" 0 "$(status <<<"$out")"
expect "A may not write two (ROFS)" 30 "$(call "$A" 10.77.1.1 create "$(fh <<<"$out")" x | status)"
out=$(call "$A" 10.77.1.1 mnt "$WORK/three"); expect "A mounts three" 0 "$(status <<<"$out")"
three=$(fh <<<"$out")
out=$(call "$A" 10.77.1.1 lookup "$three" secret); expect "A looks up three/secret" 0 "$(status <<<"$out")"
secret=$(fh <<<"$out")
expect "A creates in three" 0 "$(call "$A" 10.77.1.1 create "$three" from-a | status)"
[ "$(stat -c %u "$WORK/three/from-a")" = 65534 ] && ok "A's root squashed on three" || bad "A's root not squashed on three"
[ "$(stat -c %u "$WORK/one/from-a")" = 0 ] && ok "A's root kept on one (no_root_squash)" || bad "A's root squashed on one"

# Client B: rw on one, ro on two, refused on three however it tries.
out=$(call "$B" 10.77.2.1 mnt "$WORK/one"); expect "B mounts one" 0 "$(status <<<"$out")"
expect "B creates in one" 0 "$(call "$B" 10.77.2.1 create "$(fh <<<"$out")" from-b | status)"
out=$(call "$B" 10.77.2.1 mnt "$WORK/two"); expect "B mounts two" 0 "$(status <<<"$out")"
expect "B may not write two (ROFS)" 30 "$(call "$B" 10.77.2.1 create "$(fh <<<"$out")" x | status)"
expect "B may not mount three" 13 "$(call "$B" 10.77.2.1 mnt "$WORK/three" | status)"
expect "B may not mount three by name" 13 "$(call "$B" 10.77.2.1 mnt /three | status)"
expect "B replaying A's handle of three: ACCES" 13 "$(call "$B" 10.77.2.1 getattr "$three" | status)"
expect "B replaying A's handle of three/secret: ACCES" 13 "$(call "$B" 10.77.2.1 getattr "$secret" | status)"
expect "B replaying it in a CREATE: ACCES" 13 "$(call "$B" 10.77.2.1 create "$three" from-b | status)"
[ ! -e "$WORK/three/from-b" ] && ok "nothing of B's in three" || bad "B wrote into three"
# The root lists what each client may see.
out=$(call "$B" 10.77.2.1 mnt /); root_b=$(fh <<<"$out")
names_b=$(call "$B" 10.77.2.1 ls "$root_b" | sed 1d | grep -v '^\.' | sort | tr '\n' ' ')
expect "B's root lists one, two and four" "four one two " "$names_b"
out=$(call "$A" 10.77.1.1 mnt /); root_a=$(fh <<<"$out")
names_a=$(call "$A" 10.77.1.1 ls "$root_a" | sed 1d | grep -v '^\.' | sort | tr '\n' ' ')
expect "A's root lists all four" "four one three two " "$names_a"
expect "B looking three up in the root: NOENT" 2 "$(call "$B" 10.77.2.1 lookup "$root_b" three | status)"
# A still reaches three after B's attempts (nothing cached per handle leaks between clients).
expect "A still reads three" 0 "$(call "$A" 10.77.1.1 getattr "$secret" | status)"

# "four": A by its host name (rw), B by a wildcard on its reverse name (ro).
out=$(call "$A" 10.77.1.1 mnt "$WORK/four"); expect "A mounts four (host name)" 0 "$(status <<<"$out")"
expect "A creates in four" 0 "$(call "$A" 10.77.1.1 create "$(fh <<<"$out")" from-a | status)"
out=$(call "$B" 10.77.2.1 mnt "$WORK/four"); expect "B mounts four (wildcard *b.lan)" 0 "$(status <<<"$out")"
expect "B may not write four (ro)" 30 "$(call "$B" 10.77.2.1 create "$(fh <<<"$out")" x | status)"

grep -q "listening beyond the loopback" "$WORK/err" && bad "warned although clients are named" || ok "no loopback-only warning"
kill "$SERVER_PID"; wait "$SERVER_PID"; SERVER_PID=

# A bare DIR goes to this host only, whatever it listens on, and says so.
ip netns exec "$S" "$LOOPNFSD" "$WORK/one" --listen 10.77.1.1 --port 2049 --no-rpcbind \
	--state-dir "$WORK/state" >"$WORK/out2" 2>"$WORK/err2" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "ready" "$WORK/out2" 2>/dev/null && break; sleep 0.1; done
grep -q "listening beyond the loopback" "$WORK/err2" && ok "bare DIR on a LAN address warns" || bad "no warning for a bare DIR on a LAN address"
expect "A may not mount a bare DIR" 13 "$(call "$A" 10.77.1.1 mnt "$WORK/one" | status)"
kill "$SERVER_PID"; wait "$SERVER_PID"; SERVER_PID=
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
