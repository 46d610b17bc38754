#!/usr/bin/env bash
# Configure and build loopnfs.
#   scripts/build.sh [BUILD_DIR] [extra cmake args...]
# BUILD_DIR defaults to "build" (relative to the repository root).
# Default build type RelWithDebInfo (-O2 -g, asserts on); override with
# -DCMAKE_BUILD_TYPE=... in the extra args.
set -euo pipefail
exec </dev/null

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BUILD_DIR=build
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
	BUILD_DIR=$1
	shift
fi

cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build "$BUILD_DIR" -j "$(nproc 2>/dev/null || echo 2)"
