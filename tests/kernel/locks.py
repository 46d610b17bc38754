#!/usr/bin/python3
"""Lock helpers for the kernel tier (run in the guest as root).

  locks.py hold PATH KIND SECONDS READYFILE   take a lock, touch READYFILE, hold, release
  locks.py try PATH KIND                      non-blocking: exit 0 if taken, 1 if refused
  locks.py wait PATH KIND TIMEOUT             blocking: print the seconds it waited; exit 1 on timeout
  locks.py ofd-hold PATH SECONDS READYFILE    an OFD write lock (F_OFD_SETLK), as a local process would
  locks.py sqlite DB WRITER ROWS              one writer's transactions into a shared database
  locks.py sqlite-check DB ROWS               PRAGMA integrity_check is ok and every row is there

KIND: lockf (POSIX write lock of the whole file) or flock.
"""
import fcntl
import os
import signal
import sqlite3
import struct
import sys
import time


def take(f, kind, block):
    flags = (0 if block else fcntl.LOCK_NB) | fcntl.LOCK_EX
    if kind == "lockf":
        fcntl.lockf(f, flags)
    elif kind == "flock":
        fcntl.flock(f, flags)
    else:
        raise SystemExit("unknown lock kind " + kind)


def hold(path, kind, seconds, ready):
    with open(path, "a+") as f:
        take(f, kind, True)
        open(ready, "w").close()
        time.sleep(float(seconds))


def try_lock(path, kind):
    with open(path, "a+") as f:
        try:
            take(f, kind, False)
        except OSError:
            return 1
        return 0


def wait_lock(path, kind, timeout):
    signal.alarm(int(timeout))
    start = time.monotonic()
    with open(path, "a+") as f:
        take(f, kind, True)
        print("%.1f" % (time.monotonic() - start))
    return 0


def ofd_hold(path, seconds, ready):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    # struct flock: l_type, l_whence, l_start, l_len, l_pid (0 for OFD locks)
    lk = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    fcntl.fcntl(fd, fcntl.F_OFD_SETLK, lk)
    open(ready, "w").close()
    time.sleep(float(seconds))
    os.close(fd)


def sqlite_writer(db, writer, rows):
    con = sqlite3.connect(db, timeout=120)
    con.execute("CREATE TABLE IF NOT EXISTS t (writer INTEGER, n INTEGER, pad TEXT)")
    con.commit()
    for n in range(int(rows)):
        con.execute("INSERT INTO t VALUES (?, ?, ?)", (int(writer), n, "x" * 200))
        con.commit()
    con.close()


def sqlite_check(db, rows):
    con = sqlite3.connect(db, timeout=120)
    ok = con.execute("PRAGMA integrity_check").fetchone()[0]
    count = con.execute("SELECT count(*) FROM t").fetchone()[0]
    print("integrity_check=%s rows=%d" % (ok, count))
    return 0 if ok == "ok" and count == int(rows) else 1


def main(argv):
    cmd = argv[1]
    if cmd == "hold":
        return hold(argv[2], argv[3], argv[4], argv[5]) or 0
    if cmd == "try":
        return try_lock(argv[2], argv[3])
    if cmd == "wait":
        return wait_lock(argv[2], argv[3], argv[4])
    if cmd == "ofd-hold":
        return ofd_hold(argv[2], argv[3], argv[4]) or 0
    if cmd == "sqlite":
        return sqlite_writer(argv[2], argv[3], argv[4]) or 0
    if cmd == "sqlite-check":
        return sqlite_check(argv[2], argv[3])
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
