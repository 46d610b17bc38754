#!/bin/bash
# Reference-server shim for validating the kernel tier itself: runs
# nfs-ganesha (FSAL_VFS, NFSv3 only) behind loopnfsd's command-line
# contract, so `run.sh --server tests/kernel/ganesha-as-loopnfsd.sh`
# exercises every scenario against an independent, mature server.
#
# usage: ganesha-as-loopnfsd.sh [--listen A] [--port N] [--no-rpcbind]
#                               [--no-root-squash] DIR
# Prints "ganesha: ready port=N mountport=M" on stdout once serving.
set -u
PORT=2049 SQUASH=Root_Squash DIR=
while [ $# -gt 0 ]; do
    case "$1" in
        --port) PORT=$2; shift 2 ;;
        --listen|--mount-port|--anonuid|--anongid) shift 2 ;;
        --no-rpcbind) shift ;;
        --no-root-squash) SQUASH=No_Root_Squash; shift ;;
        --all-squash) SQUASH=All_Squash; shift ;;
        *) DIR=$1; shift ;;
    esac
done
[ "$PORT" = 0 ] && PORT=$((20000 + RANDOM % 20000))
MPORT=$((PORT + 1))
W=$(mktemp -d /tmp/ganesha.XXXXXX)
cat > "$W/ganesha.conf" <<EOF
NFS_CORE_PARAM {
    Protocols = 3;
    NFS_Port = $PORT;
    MNT_Port = $MPORT;
    Enable_NLM = false;
    Enable_RQUOTA = false;
    Bind_addr = 0.0.0.0;
    Mount_Path_Pseudo = true;
}
NFSV4 { Graceless = true; }
EXPORT {
    Export_Id = 1;
    Path = $DIR;
    Pseudo = /;
    Access_Type = RW;
    Squash = $SQUASH;
    SecType = sys;
    Protocols = 3;
    Transports = TCP;
    FSAL { Name = VFS; }
}
LOG { Default_Log_Level = WARN; }
EOF
# announce readiness from a helper, then exec so that our pid is ganesha's
(
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
            echo "ganesha: ready port=$PORT mountport=$MPORT"
            break
        fi
        sleep 0.3
    done
) &
exec ganesha.nfsd -F -L /dev/stderr -f "$W/ganesha.conf" -p "$W/pid" -N NIV_WARN
