#!/usr/bin/env bash
# Regenerate the fuzz seeds: tests/fuzz/corpus/ and tests/fuzz/handles.txt.
#   tests/fuzz/mkcorpus.sh [CTEST_REGEX]
# 1. builds the normal tree (build/) and the fuzz target (build-fuzz/);
# 2. runs the integration and write tiers (CTEST_REGEX selects others) with
#    LOOPNFS_CAPTURE_DIR set: their clients reach loopnfsd through a relay
#    that records what they send (tests/integration/capture.c). Tests that
#    need UDP or a private network fail under the relay; that is expected;
# 3. fuzz_rpc --make-corpus: a valid call of every NFSv3 and MOUNT procedure,
#    a few multi-record streams, and the capture made to fit the fuzz
#    target's export, each run once with its replies' statuses printed;
# 4. the new corpus: every generated seed, then those captured inputs that
#    add coverage (libFuzzer -merge=1).
# Needs what scripts/setup.sh installs; run as root like the test suite.
set -euo pipefail
exec </dev/null

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tests/fuzz
REGEX=${1:-'^(integration\.(rpc|mount|read|readdir|handles)|write\.(setattr|write|create|namespace|perm|drc|multi))$'}
BUILD=$ROOT/build
FUZZ=$ROOT/build-fuzz/tests/fuzz/fuzz_rpc

bash "$ROOT/scripts/build.sh" "$BUILD" >/dev/null
cmake -S "$ROOT" -B "$ROOT/build-fuzz" -DCMAKE_C_COMPILER=clang -DLOOPNFS_FUZZ=ON \
	-DLOOPNFS_TESTS=OFF -DLOOPNFS_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$ROOT/build-fuzz" --target fuzz_rpc -j "$(nproc 2>/dev/null || echo 2)" >/dev/null

WORK=$(mktemp -d "${TMPDIR:-/tmp}/loopnfs-mkcorpus.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/capture" "$WORK/tmp"

echo "mkcorpus: capturing: ctest -R '$REGEX'"
(cd "$BUILD" && LOOPNFS_CAPTURE_DIR="$WORK/capture" ctest -R "$REGEX" >"$WORK/ctest.log" 2>&1) ||
	echo "mkcorpus: (some tests fail under the relay, as expected)"
grep -E 'Test +#' "$WORK/ctest.log" || true
echo "mkcorpus: $(find "$WORK/capture" -type f | wc -l) connections," \
	"$(du -sh "$WORK/capture" | cut -f1) captured"

TMPDIR=$WORK/tmp "$FUZZ" --make-corpus "$WORK/out" "$WORK/capture" | tee "$WORK/make.log"

# The table first: the merge below maps the new seeds' handles with it. Earlier
# generations' lines stay: the inputs in regressions/ were found with them.
{
	cat "$WORK/out/handles.txt"
	[ -f "$HERE/handles.txt" ] && grep -v '^#' "$HERE/handles.txt"
} | awk '!seen[$0]++' >"$WORK/handles.txt"
mv "$WORK/handles.txt" "$HERE/handles.txt"
rm -rf "$HERE/corpus"
mkdir "$HERE/corpus"
cp "$WORK/out/gen/"* "$HERE/corpus/"
TMPDIR=$WORK/tmp "$FUZZ" -merge=1 -timeout=10 -rss_limit_mb=2048 \
	"$HERE/corpus" "$WORK/out/captured" >"$WORK/merge.log" 2>&1 || {
	tail -n 40 "$WORK/merge.log"
	exit 1
}
grep -E 'MERGE-OUTER: [0-9]+ new files' "$WORK/merge.log" || true
chmod 644 "$HERE/corpus/"* # the target runs with umask 0, as loopnfsd does
echo "mkcorpus: $(find "$HERE/corpus" -type f | wc -l) seeds," \
	"$(du -sb "$HERE/corpus" | cut -f1) bytes in tests/fuzz/corpus"
