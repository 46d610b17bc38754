#!/usr/bin/env bash
# Install dependencies, build, and serve DIR over NFSv3 in the foreground.
#   sudo bash scripts/run.sh [DIR] [extra loopnfsd args...]
# DIR defaults to /srv/loopnfs and is created if missing. loopnfsd prints the
# mount command to use.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${1:-/srv/loopnfs}
[ $# -gt 0 ] && shift

bash "$ROOT/scripts/setup.sh" </dev/null
bash "$ROOT/scripts/build.sh" build </dev/null

# loopnfsd registers with rpcbind so that a plain `mount -t nfs localhost:/ MNT`
# works; start the machine's rpcbind if it isn't running (best effort).
if ! pgrep -x rpcbind >/dev/null 2>&1; then
	if [ -d /run/systemd/system ]; then
		systemctl start rpcbind >/dev/null 2>&1 || rpcbind -w >/dev/null 2>&1 || true
	else
		rpcbind -w >/dev/null 2>&1 || rpcbind >/dev/null 2>&1 || true
	fi
fi

mkdir -p "$DIR"
exec "$ROOT/build/loopnfsd" "$DIR" "$@"
