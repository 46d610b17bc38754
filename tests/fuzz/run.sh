#!/usr/bin/env bash
# Build the libFuzzer target (clang, ASan+UBSan) and run it for a bounded time.
#   tests/fuzz/run.sh [SECONDS]        (default 180)
# 1. builds fuzz_rpc in build-fuzz/ (FUZZ_BUILD_DIR overrides);
# 2. replays every input in tests/fuzz/regressions/ (each one a test);
# 3. fuzzes a copy of tests/fuzz/corpus for SECONDS, so the committed seeds
#    are never modified (-timeout=10 -rss_limit_mb=2048; FUZZ_ARGS adds
#    libFuzzer flags, e.g. FUZZ_ARGS="-fork=2").
# Any crash, leak, timeout or out-of-memory fails: the input that did it is
# kept (its path is printed) and the exit status is 1.
# Last line: "N passed, N failed".
set -uo pipefail
exec </dev/null

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FUZZ_SECONDS=${1:-180}
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
FUZZ=$BUILD/tests/fuzz/fuzz_rpc
HERE=$ROOT/tests/fuzz
PASSED=0
FAILED=0

summary() {
	[ "$FAILED" -gt 0 ] && [ -n "${FINDINGS:-}" ] && report_findings
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit $?
}

echo "fuzz: building $FUZZ"
if ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER=clang -DLOOPNFS_FUZZ=ON \
	-DLOOPNFS_TESTS=OFF -DLOOPNFS_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
	cmake --build "$BUILD" --target fuzz_rpc -j "$(nproc 2>/dev/null || echo 2)" >/dev/null; }; then
	echo "fuzz: build failed (needs clang and libclang-rt-14-dev: scripts/setup.sh)"
	FAILED=$((FAILED + 1))
	summary
fi

# Everything the target makes (its temporary exports) lives here and goes at the end;
# findings go to a directory of their own, removed only if empty.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/loopnfs-fuzzrun.XXXXXX")
FINDINGS=$(mktemp -d "${TMPDIR:-/tmp}/loopnfs-fuzz-findings.XXXXXX")
trap 'rm -rf "$WORK"; rmdir "$FINDINGS" 2>/dev/null' EXIT
mkdir "$WORK/tmp"
export TMPDIR=$WORK/tmp

# Keep what a failed run found, and say where it is.
report_findings() {
	local f
	for f in "$FINDINGS"/*; do
		[ -e "$f" ] && echo "fuzz: FAILING INPUT KEPT: $f"
	done
}

# 2. regressions: each input once; libFuzzer stops at the first that fails.
for input in "$HERE"/regressions/*; do
	case "$input" in *.md | *'*') continue ;; esac
	if "$FUZZ" -timeout=10 -rss_limit_mb=2048 "$input" >"$WORK/replay.log" 2>&1; then
		PASSED=$((PASSED + 1))
	else
		echo "fuzz: regression $(basename "$input") fails again:"
		tail -n 40 "$WORK/replay.log"
		cp "$input" "$FINDINGS/"
		FAILED=$((FAILED + 1))
	fi
done
echo "fuzz: $PASSED regression inputs replayed clean"

# 3. a bounded fuzzing run over a copy of the committed corpus.
cp -r "$HERE/corpus" "$WORK/corpus"
echo "fuzz: fuzzing for ${FUZZ_SECONDS}s from $(find "$WORK/corpus" -type f | wc -l) seeds"
# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
"$FUZZ" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$FINDINGS/" -print_final_stats=1 ${FUZZ_ARGS:-} \
	"$WORK/corpus" >"$WORK/fuzz.log" 2>&1
rc=$?
grep -E '^fuzz_rpc:|INITED|DONE' "$WORK/fuzz.log" | head -n 5
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb|new_units_added)' \
	"$WORK/fuzz.log"
if [ "$rc" -ne 0 ]; then
	echo "fuzz: libFuzzer exited $rc; the end of its log:"
	tail -n 60 "$WORK/fuzz.log"
	FAILED=$((FAILED + 1))
else
	PASSED=$((PASSED + 1))
fi
summary
