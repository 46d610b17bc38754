#!/usr/bin/env bash
# Idempotent dependency installer for a fresh Debian 12 (run as root).
#   scripts/setup.sh [--kernel] [--bench]
#     --kernel  also install qemu + a Debian kernel + busybox (kernel-client tests)
#     --bench   also install nfs-ganesha (comparison benchmark)
# Never prompts; works with no stdin. apt-get update runs only when needed.
set -euo pipefail
exec </dev/null

want_kernel=0
want_bench=0
for arg in "$@"; do
	case "$arg" in
	--kernel) want_kernel=1 ;;
	--bench) want_bench=1 ;;
	-h | --help)
		sed -n '2,7p' "$0"
		exit 0
		;;
	*)
		echo "setup.sh: unknown option: $arg" >&2
		exit 2
		;;
	esac
done

pkgs=(build-essential cmake pkg-config libtirpc-dev rpcsvc-proto libcmocka-dev libnfs-dev
	libsodium-dev rpcbind nfs-common iproute2 cppcheck clang-format clang libclang-rt-14-dev
	libssl-dev libjansson-dev gocryptfs fuse3)
((want_kernel)) && pkgs+=(qemu-system-x86 linux-image-amd64 busybox-static)
((want_bench)) && pkgs+=(nfs-ganesha nfs-ganesha-vfs e2fsprogs)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo -n"
	else
		echo "setup.sh: must run as root (or with passwordless sudo)" >&2
		exit 1
	fi
fi

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = "installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	echo "setup.sh: installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt_opts=(-y -q --no-install-recommends
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
	# Update the package lists only if they are absent or the install fails.
	if ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then
		$SUDO apt-get update -q
	fi
	if ! $SUDO apt-get install "${apt_opts[@]}" "${missing[@]}"; then
		$SUDO apt-get update -q
		$SUDO apt-get install "${apt_opts[@]}" "${missing[@]}"
	fi
	# Distro NFS servers must not hold port 2049 / the NFS program in rpcbind.
	if ((want_bench)) && [ -d /run/systemd/system ]; then
		$SUDO systemctl disable --now nfs-ganesha >/dev/null 2>&1 || true
	fi
else
	echo "setup.sh: all packages already installed"
fi

exit 0
