/*
 * libFuzzer target for loopnfsd's request path. Each input is the byte
 * stream one client sends on one TCP connection: it is cut into records by
 * the server's own framing (recmark.c), and each record goes where the
 * event thread sends it (rpc_classify; rpc_process_inline for the cheap
 * calls, rpc_process for the rest), through the RPC header and AUTH_SYS
 * parsing, dispatch and the procedure's rpcgen decoder, into the procedure
 * itself, against a temporary export (fuzz_export.c).
 *
 * Findings, besides what ASan, UBSan and LeakSanitizer report:
 *   - a reply that does not answer its call's xid, or whose result does not
 *     decode with rpcgen's routines to exactly its length (READDIRPLUS's
 *     hand-written encoder included);
 *   - an inline call that gave up for a worker but touched the reply;
 *   - anything outside the export changed or read (fz_check_outside).
 *
 * Every input starts from the same state: the export's tree as built (put
 * back after any input that changed it), and empty caches (objects, directory streams, kept entry handles, duplicate
 * requests, mount list), as for a connection to a freshly started server.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include "drc.h"
#include "fh_dircache.h"
#include "fs.h"
#include "log.h"
#include "nfs3.h"
#include "nfs4.h"
#include "nfs4_prot.h"
#include "objcache.h"
#include "recmark.h"
#include "req.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <rpc/rpc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFS_PROG 100003
#define REPLY_HDR 24 /* xid, REPLY, MSG_ACCEPTED, verifier (flavor, length 0), accept_stat */

/* mountd/mount3.c: the mount list, emptied between inputs. */
void mount_shutdown(void);

static struct rpc_peer peer;
/* Who sees the replies of the input being run (--make-corpus); usually nobody. */
static fz_reply_fn observer;
static void *observer_ctx;

const char *fz_data_dir(void)
{
	const char *d = getenv("LOOPNFS_FUZZ_DATA");
	return d && *d ? d : LOOPNFS_FUZZ_SRC_DIR;
}

/* Not a sanitizer's report, but a broken promise of the server's: a crash for libFuzzer. */
static void finding(const char *what, size_t len)
{
	fprintf(stderr, "fuzz_rpc: %s (record of %zu bytes)\n", what, len);
	abort();
}

static uint32_t be32_at(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return ntohl(v);
}

/* ---- the reply oracle ---- */

static const struct proc_desc *proc_of(const uint8_t *rec, size_t len)
{
	static const struct prog_desc *const progs[] = { &nfs3_program, &nfs4_program,
							 &mount1_program, &mount3_program };
	if (len < 24)
		return NULL;
	uint32_t prog = be32_at(rec + 12), vers = be32_at(rec + 16), proc = be32_at(rec + 20);
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		if (progs[i]->prog == prog && progs[i]->vers == vers && proc < progs[i]->nprocs)
			return &progs[i]->procs[proc];
	return NULL;
}

static bool is_compound(const struct proc_desc *pd)
{
	return pd == &nfs4_program.procs[NFSPROC4_COMPOUND];
}

/*
 * The hand-written READDIRPLUS encoder is held to rpcgen's decoder, and so
 * is a COMPOUND's reply, which its procedure encodes itself.
 */
static xdrproc_t result_decoder(const struct proc_desc *pd, size_t *res_size)
{
	*res_size = pd->res_size;
	if (is_compound(pd)) {
		*res_size = sizeof(COMPOUND4res);
		return (xdrproc_t)xdr_COMPOUND4res;
	}
	if (pd->xdr_res == (xdrproc_t)xdr_READDIRPLUS3res_fast)
		return (xdrproc_t)xdr_READDIRPLUS3res;
	return pd->xdr_res;
}

/* The result as the client receives it: the header's tail, then any bulk payload, padded. */
static uint8_t *result_bytes(const struct rpc_reply *rep, size_t *n)
{
	size_t head = rep->len - RPC_REPLY_RESERVE - REPLY_HDR;
	size_t pad = (4 - (rep->payload_len & 3)) & 3;
	*n = head + rep->payload_len + pad;
	uint8_t *b = calloc(1, *n + 1);
	if (!b)
		abort();
	memcpy(b, rep->buf + RPC_REPLY_RESERVE + REPLY_HDR, head);
	if (rep->payload_len)
		memcpy(b + head, rep->payload, rep->payload_len);
	return b;
}

static bool result_decodes(const struct proc_desc *pd, const struct rpc_reply *rep)
{
	size_t n;
	uint8_t *bytes = result_bytes(rep, &n);
	size_t res_size;
	xdrproc_t dec = result_decoder(pd, &res_size);
	void *res = calloc(1, res_size ? res_size : 1);
	if (!res)
		abort();
	XDR x;
	xdrmem_create(&x, (char *)bytes, (u_int)n, XDR_DECODE);
	bool ok = dec(&x, res) && xdr_getpos(&x) == n;
	xdr_destroy(&x);
	xdr_free(dec, res);
	free(res);
	free(bytes);
	return ok;
}

/*
 * The server's own failure, never the client's: nothing here runs out of
 * memory (libFuzzer reports that first), so SYSTEM_ERR or a SERVERFAULT
 * status means the server could not do what it should have.
 */
static void check_no_server_fault(const struct proc_desc *pd, const struct rpc_reply *rep,
				  size_t len)
{
	const uint8_t *h = rep->buf + RPC_REPLY_RESERVE;
	if (be32_at(h + 20) == ACC_SYSTEM_ERR)
		finding("the server answered SYSTEM_ERR", len);
	/* NFS3ERR_SERVERFAULT, MNT3ERR_SERVERFAULT and a COMPOUND's NFS4ERR_SERVERFAULT are 10006. */
	if (pd && (pd->flags & PROC_STATUS || is_compound(pd)) && be32_at(h + 20) == ACC_SUCCESS &&
	    rep->len >= RPC_REPLY_RESERVE + REPLY_HDR + 4 &&
	    be32_at(h + REPLY_HDR) == NFS3ERR_SERVERFAULT)
		finding("the server answered SERVERFAULT", len);
}

static void check_reply(const uint8_t *rec, size_t len, const struct rpc_reply *rep)
{
	if (rep->drop || rep->len == 0)
		return; /* not a call, or a duplicate in progress: nothing is sent */
	if (rep->len < RPC_REPLY_RESERVE + 12 || len < 4 || memcmp(rep->buf + 4, rec, 4) != 0)
		finding("the reply does not answer the call's xid", len);
	const uint8_t *h = rep->buf + RPC_REPLY_RESERVE;
	bool accepted = rep->len >= RPC_REPLY_RESERVE + REPLY_HDR && be32_at(h + 8) == 0 &&
			be32_at(h + 16) == 0;
	if (!accepted)
		return;
	const struct proc_desc *pd = proc_of(rec, len);
	check_no_server_fault(pd, rep, len);
	if (pd && be32_at(h + 20) == ACC_SUCCESS && !result_decodes(pd, rep))
		finding("the result does not decode to its length with rpcgen's routines", len);
}

/* ---- one record, as the event thread and a worker run it ---- */

static bool reply_untouched(const struct rpc_reply *rep)
{
	static const struct rpc_reply zero;
	return memcmp(rep, &zero, sizeof(zero)) == 0;
}

static void run_record(const uint8_t *rec, size_t len)
{
	struct rpc_reply rep = { 0 };
	bool answered = false;
	if (rpc_classify(rec, len).may_inline) {
		answered = rpc_process_inline(rec, len, &peer, &rep);
		fz_server_identity();
		if (!answered && !reply_untouched(&rep))
			finding("an inline call handed to a worker touched the reply", len);
	}
	if (!answered) {
		rpc_process(rec, len, &peer, &rep);
		fz_server_identity();
	}
	check_reply(rec, len, &rep);
	if (observer)
		observer(observer_ctx, rec, len, &rep);
	rpc_reply_free(&rep);
}

/* NFSv3 procedures that may change the tree (SETATTR, WRITE, CREATE...LINK), and any COMPOUND. */
static bool may_change_export(const uint8_t *rec, size_t len)
{
	if (len < 24 || be32_at(rec + 12) != NFS_PROG)
		return false;
	if (be32_at(rec + 16) == 4)
		return be32_at(rec + 20) == NFSPROC4_COMPOUND;
	if (be32_at(rec + 16) != 3)
		return false;
	uint32_t proc = be32_at(rec + 20);
	return proc == NFSPROC3_SETATTR || (proc >= NFSPROC3_WRITE && proc <= NFSPROC3_LINK);
}

/* Run the framer's completed record; true when it may have changed the export. */
static bool take_and_run(struct rm_framer *f)
{
	uint8_t *rec;
	size_t len;
	rm_take(f, &rec, &len);
	size_t tlen;
	uint8_t *t = fz_subst_apply(rec, len, &tlen);
	const uint8_t *r = t ? t : rec;
	size_t n = t ? tlen : len;
	bool changes = may_change_export(r, n);
	run_record(r, n);
	free(t);
	free(rec);
	return changes;
}

/* The input as one connection's bytes; true when a record may have changed the export. */
static bool feed_stream(const uint8_t *data, size_t size)
{
	struct rm_framer f = { 0 };
	bool changes = false;
	size_t off = 0;
	while (off < size) {
		size_t used;
		enum rm_status s = rm_feed(&f, data + off, size - off, &used);
		off += used;
		if (s == RM_RECORD)
			changes |= take_and_run(&f);
		else if (s != RM_NEED_MORE)
			break; /* the server closes the connection */
	}
	rm_free(&f); /* a record the end of the input cut short: the client went away */
	return changes;
}

/* Every input meets a freshly started server's state. */
static void forget_state(void)
{
	fz_nfs4_reset();
	drc_shutdown();
	mount_shutdown();
	oc_shutdown();
	fs_readdir_sweep(0);
	dhc_sweep(0);
}

void fz_run_input(const uint8_t *data, size_t size, fz_reply_fn fn, void *ctx)
{
	observer = fn;
	observer_ctx = ctx;
	/* Most mutating calls the fuzzer makes fail: rebuild only what changed. */
	if (feed_stream(data, size) && fz_export_changed())
		fz_export_reset();
	fz_check_outside();
	forget_state();
	observer = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run_input(data, size, NULL, NULL);
	return 0;
}

/* ---- set-up ---- */

static void peer_init(void)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&peer.addr;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(877); /* a privileged port, as the kernel client's */
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	peer.addrlen = sizeof(*sin);
	peer.is_tcp = true;
	peer.is_local = true;
}

/* A GETATTR of the corpus's root handle must come back NFS3_OK, or the seeds are stale. */
static void check_root_resolves(void)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/corpus/nfs3-01-GETATTR-root", fz_data_dir());
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	uint8_t buf[512];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct rm_framer fr = { 0 };
	size_t used;
	uint8_t *rec, *t;
	size_t len, tlen;
	if (rm_feed(&fr, buf, n, &used) != RM_RECORD) {
		rm_free(&fr);
		return;
	}
	rm_take(&fr, &rec, &len);
	t = fz_subst_apply(rec, len, &tlen);
	struct rpc_reply rep = { 0 };
	rpc_process(t ? t : rec, t ? tlen : len, &peer, &rep);
	fz_server_identity();
	bool ok = rep.len >= RPC_REPLY_RESERVE + REPLY_HDR + 4 &&
		  be32_at(rep.buf + RPC_REPLY_RESERVE + REPLY_HDR) == NFS3_OK;
	fprintf(stderr, "fuzz_rpc: the corpus's root handle %s\n",
		ok ? "resolves" : "does NOT resolve (regenerate with tests/fuzz/mkcorpus.sh)");
	rpc_reply_free(&rep);
	free(t);
	free(rec);
	forget_state();
}

static const char *arg_after(int argc, char **argv, const char *flag, int skip)
{
	for (int i = 1; i + skip < argc; i++)
		if (strcmp(argv[i], flag) == 0)
			return argv[i + skip];
	return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *level = getenv("LOOPNFS_FUZZ_LOG");
	enum log_level lvl = LOG_LVL_ERROR;
	if (level)
		log_parse_level(level, &lvl);
	log_set_level(lvl);
	peer_init();
	fz_export_init();

	/* --make-corpus OUT [CAPTURE_DIR]: libFuzzer ignores flags that start with "--". */
	const char *out = arg_after(*argc, *argv, "--make-corpus", 1);
	if (out) {
		const char *cap = arg_after(*argc, *argv, "--make-corpus", 2);
		if (cap && cap[0] == '-')
			cap = NULL;
		exit(fz_make_corpus(out, cap) == 0 ? 0 : 1);
	}
	char table[4096];
	snprintf(table, sizeof(table), "%s/handles.txt", fz_data_dir());
	fz_subst_load(table);
	check_root_resolves();
	return 0;
}
