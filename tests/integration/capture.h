/*
 * capture.h - an opt-in recorder of what the tests' clients send.
 *
 * With LOOPNFS_CAPTURE_DIR set, itest_server_start puts a TCP relay between
 * the tests and loopnfsd: tests connect to the relay's port (it becomes
 * itest_server.port), the relay connects to the server and copies both
 * ways, and writes each connection's client-to-server bytes, record marks
 * and all, to LOOPNFS_CAPTURE_DIR/<pid>-<n>.rm (the first CAPTURE_MAX bytes).
 * tests/fuzz/mkcorpus.sh turns these into fuzz seeds. Unset: nothing
 * changes. Under capture, tests that use UDP or compare the port printed by
 * the server with the one they talk to fail; the capture does not care.
 */
#ifndef LOOPNFS_CAPTURE_H
#define LOOPNFS_CAPTURE_H

struct capture;

/* A relay to 127.0.0.1:port when capturing; returns the port to use (port itself if not). */
int capture_start(int port, struct capture **out);
/* Stop accepting; connections still open end with their peers. NULL is fine. */
void capture_stop(struct capture *c);

#endif
