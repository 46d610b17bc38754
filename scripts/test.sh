#!/usr/bin/env bash
# Full test suite: deps, three builds (normal -Werror, ASan+UBSan, TSan),
# ctest in each, cppcheck, a bounded fuzzing run, kernel-client tests, short
# benchmarks (against nfs-ganesha; the encrypted view against gocryptfs).
# Runs as root with no stdin (CI=true). Last line: "N passed, N failed".
set -uo pipefail
exec </dev/null
export CI=${CI:-true}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/loopnfs-test.XXXXXX")
trap 'rm -rf "$LOGDIR"' EXIT

PASSED=0
FAILED=0
TEST_WRAP=()
FAILED_STEPS=()

step() { printf '\n===== %s =====\n' "$*"; }
fail_step() {
	FAILED_STEPS+=("$1")
	FAILED=$((FAILED + 1))
}

# Add counts from a log containing "N passed, N failed" (last occurrence).
# Returns 1 if the log has no such line.
add_summary_counts() {
	local line p f
	line=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1) || true
	[ -n "$line" ] || return 1
	p=${line%% passed*}
	f=${line#*, }
	f=${f%% failed*}
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	return 0
}

# run_ctest NAME BUILD_DIR [ctest args...]
run_ctest() {
	local name=$1 dir=$2 log="$LOGDIR/ctest-$1.log" rc line total nfail
	shift 2
	step "ctest ($name) $*"
	(cd "$dir" && "${TEST_WRAP[@]}" ctest --output-on-failure "$@") 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	if grep -q 'No tests were found' "$log"; then
		echo "($name: no tests selected)"
		return 0
	fi
	line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
		nfail=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
		PASSED=$((PASSED + total - nfail))
		FAILED=$((FAILED + nfail))
		((nfail > 0)) && FAILED_STEPS+=("ctest-$name")
		if ((rc != 0 && nfail == 0)); then fail_step "ctest-$name (exit $rc)"; fi
	elif ((rc != 0)); then
		fail_step "ctest-$name (exit $rc)"
	fi
}

# 1. dependencies
step "setup"
if ! bash scripts/setup.sh --kernel --bench; then
	fail_step setup
fi

# 2. builds + ctest
declare -A BUILD_OK
build() {
	local dir=$1
	shift
	step "build $dir $*"
	if bash scripts/build.sh "$dir" "$@"; then
		BUILD_OK[$dir]=1
	else
		BUILD_OK[$dir]=0
		fail_step "build-$dir"
	fi
}

build build -DLOOPNFS_WERROR=ON
[ "${BUILD_OK[build]}" = 1 ] && run_ctest normal build

build build-asan -DLOOPNFS_SANITIZE=address
[ "${BUILD_OK[build-asan]}" = 1 ] && run_ctest asan build-asan -L sanitize

build build-tsan -DLOOPNFS_SANITIZE=thread
# TSan (gcc 12) aborts with "unexpected memory mapping" when the kernel's
# mmap randomisation is high (vm.mmap_rnd_bits=32); disable ASLR for it.
TSAN_WRAP=()
if command -v setarch >/dev/null 2>&1 && setarch "$(uname -m)" -R true 2>/dev/null; then
	TSAN_WRAP=(setarch "$(uname -m)" -R)
fi
if [ "${BUILD_OK[build-tsan]}" = 1 ]; then
	TEST_WRAP=("${TSAN_WRAP[@]}")
	# libtirpc decodes XDR padding into one static scratch buffer (benign).
	export TSAN_OPTIONS="suppressions=$ROOT/tests/write/tsan.supp ${TSAN_OPTIONS:-}"
	run_ctest tsan build-tsan -L sanitize
	TEST_WRAP=()
fi

# 3. static analysis (errors fail the run)
step "cppcheck"
cc_dirs=()
for d in server mountd include; do [ -d "$d" ] && cc_dirs+=("$d"); done
if [ ${#cc_dirs[@]} -gt 0 ]; then
	cc_inc=()
	[ -d include ] && cc_inc+=(-I include)
	[ -d build/rpc ] && cc_inc+=(-I build/rpc)
	if ! cppcheck -q -j 2 --std=c11 --library=posix --error-exitcode=1 \
		--inline-suppr --suppress=missingIncludeSystem "${cc_inc[@]}" "${cc_dirs[@]}"; then
		fail_step cppcheck
	fi
else
	echo "(no sources to check)"
fi

# 4. fuzzing, kernel client tests and benchmark (if present). Their own
# "N passed, N failed" line is added to the totals; otherwise the script
# counts as one test.
export LOOPNFS_BUILD_DIR="$ROOT/build"
run_script() {
	local name=$1 log="$LOGDIR/$1.log" rc
	shift
	step "$name: $*"
	bash "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	if add_summary_counts "$log"; then
		((rc != 0)) && FAILED_STEPS+=("$name (exit $rc)")
		if ((rc != 0)) && ! grep -Eq '[0-9]+ passed, [1-9][0-9]* failed' <(tail -n 50 "$log"); then
			FAILED=$((FAILED + 1))
		fi
	elif ((rc == 0)); then
		PASSED=$((PASSED + 1))
	else
		fail_step "$name (exit $rc)"
	fi
}
# The fuzz target for a bounded time (its own clang build in build-fuzz): its
# regression inputs, then LOOPNFS_FUZZ_SECONDS (180) of fuzzing; a crash fails.
if [ -f tests/fuzz/run.sh ]; then
	run_script fuzz tests/fuzz/run.sh "${LOOPNFS_FUZZ_SECONDS:-180}"
fi
if [ -f tests/kernel/run.sh ]; then
	if [ "${BUILD_OK[build]:-0}" = 1 ]; then
		run_script kernel tests/kernel/run.sh
	else
		fail_step "kernel (not run: build failed)"
	fi
fi
if [ -f bench/run.sh ]; then
	if [ "${BUILD_OK[build]:-0}" = 1 ]; then
		run_script bench bench/run.sh --short
	else
		fail_step "bench (not run: build failed)"
	fi
fi
# The encrypted view against passthrough and gocryptfs -reverse (FUSE), tiny
# sizes (about 20 s); it skips itself, with a message, without gocryptfs or FUSE.
if [ -f bench/crypt.sh ]; then
	if [ "${BUILD_OK[build]:-0}" = 1 ]; then
		run_script bench-crypt bench/crypt.sh --short
	else
		fail_step "bench-crypt (not run: build failed)"
	fi
fi

step "summary"
if [ ${#FAILED_STEPS[@]} -gt 0 ]; then
	printf 'failed: %s\n' "${FAILED_STEPS[@]}"
fi
echo "$PASSED passed, $FAILED failed"
if [ "$FAILED" -gt 0 ] || [ ${#FAILED_STEPS[@]} -gt 0 ]; then
	exit 1
fi
exit 0
