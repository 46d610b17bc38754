/*
 * The NFSv4.1 state core (server/nfs4/): EXCHANGE_ID's case table,
 * CREATE_SESSION's sequence and confirmation, DESTROY_CLIENTID, the client
 * limit, leases on a fake clock (expiry frees sessions, opens and locks),
 * stateids (special ones, seqid rules, TEST_STATEID, FREE_STATEID,
 * revocation), opens (share reservations, upgrade, downgrade, CLOSE) and
 * the I/O check.
 */
#include "nfs4_unit.h"

/* ------------------------------------------------------------------ statuses */

static void test_status_values(void **state)
{
	(void)state;
	assert_int_equal(ST4_ERR_BAD_STATEID, 10025);
	assert_int_equal(ST4_ERR_OLD_STATEID, 10024);
	assert_int_equal(ST4_ERR_SEQ_MISORDERED, 10063);
	assert_int_equal(ST4_ERR_BADSLOT, 10053);
	assert_int_equal(ST4_ERR_RETRY_UNCACHED_REP, 10068);
	assert_int_equal(ST4_ERR_SHARE_DENIED, 10015);
	assert_int_equal(ST4_ERR_LOCKS_HELD, 10037);
	assert_int_equal(ST4_ERR_GRACE, 10013);
	assert_int_equal(ST4_ERR_NO_GRACE, 10033);
	assert_int_equal(ST4_ERR_STALE_CLIENTID, 10022);
	assert_int_equal(ST4_ERR_CLIENTID_BUSY, 10074);
	assert_int_equal(ST4_ERR_DELEG_REVOKED, 10087);
	assert_string_equal(st4_status_name(ST4_ERR_BAD_STATEID), "NFS4ERR_BAD_STATEID");
}

/* -------------------------------------------------------------- EXCHANGE_ID */

static void test_exchange_id_new(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct st4_exchange_id_args a = t4_eid_args("linux-a", 1);
	struct st4_exchange_id_res r;
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_OK);
	assert_int_equal(r.sequenceid, 1);
	assert_int_equal(r.flags & ST4_EXCHGID_CONFIRMED_R, 0);
	assert_true(r.flags & ST4_EXCHGID_USE_NON_PNFS);
	assert_int_equal(st4_client_count(t.srv), 1);

	a.ownerid_len = 0;
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_ERR_INVAL);
	a.ownerid_len = ST4_OPAQUE_LIMIT + 1;
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_ERR_INVAL);
	a = t4_eid_args("linux-a", 1);
	a.flags = ST4_EXCHGID_CONFIRMED_R; /* a reply flag */
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_ERR_INVAL);
	t4_stop(&t);
}

static void test_exchange_id_retransmit(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client tc;
	t4_confirm(t.srv, "linux-a", 1, &tc);
	struct st4_exchange_id_args a = t4_eid_args("linux-a", 1);
	struct st4_exchange_id_res r;
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_OK);
	assert_int_equal(r.clientid, tc.clientid);
	assert_true(r.flags & ST4_EXCHGID_CONFIRMED_R);
	assert_int_equal(r.sequenceid, 2); /* the CREATE_SESSION after the first */
	assert_int_equal(st4_client_count(t.srv), 1);
	t4_stop(&t);
}

/* Case 5: a second EXCHANGE_ID before any CREATE_SESSION replaces the unconfirmed record. */
static void test_exchange_id_unconfirmed_replaced(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct st4_exchange_id_args a = t4_eid_args("linux-a", 1);
	struct st4_exchange_id_res r1, r2;
	assert_st(st4_exchange_id(t.srv, &a, &r1), ST4_OK);
	a.verifier[0] = 9;
	assert_st(st4_exchange_id(t.srv, &a, &r2), ST4_OK);
	assert_true(r1.clientid != r2.clientid);
	assert_int_equal(st4_client_count(t.srv), 1);
	struct st4_create_session_args ca = t4_cs_args(r1.clientid, 1);
	struct st4_create_session_res cr;
	assert_st(st4_create_session(t.srv, &ca, &cr), ST4_ERR_STALE_CLIENTID);
	ca.clientid = r2.clientid;
	assert_st(st4_create_session(t.srv, &ca, &cr), ST4_OK);
	t4_stop(&t);
}

/* Case 4: a new verifier is a reboot; the old state goes when the new record is confirmed. */
static void test_exchange_id_client_reboot(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client old, other;
	t4_connect(t.srv, "linux-a", &old);
	struct st4_open_args oa =
		t4_open_args(10, "o1", ST4_SHARE_ACCESS_BOTH, ST4_SHARE_DENY_BOTH);
	struct st4_stateid sid;
	assert_st(st4_open(t.srv, old.c, &oa, &sid), ST4_OK);
	t4_end(t.srv, &old);

	struct st4_exchange_id_args a = t4_eid_args("linux-a", 2);
	struct st4_exchange_id_res r;
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_OK);
	assert_true(r.clientid != old.clientid);
	assert_int_equal(r.flags & ST4_EXCHGID_CONFIRMED_R, 0);
	/* Not confirmed yet: the old client and its open are still there. */
	t4_begin(t.srv, &old);
	enum st4_status ts;
	st4_test_stateids(t.srv, old.c, &sid, 1, &ts);
	assert_st(ts, ST4_OK);
	t4_end(t.srv, &old);

	struct st4_create_session_args ca = t4_cs_args(r.clientid, r.sequenceid);
	struct st4_create_session_res cr;
	assert_st(st4_create_session(t.srv, &ca, &cr), ST4_OK);
	assert_int_equal(st4_client_count(t.srv), 1);
	struct st4_sequence_args sa = { 0 };
	struct st4_sequence_res sr;
	struct st4_slot_ref ref;
	memcpy(sa.sessionid, old.sessionid, ST4_SESSIONID_SIZE);
	sa.sequenceid = old.seq + 1;
	assert_st(st4_sequence(t.srv, &sa, &sr, &ref), ST4_ERR_BADSESSION);
	/* The old deny-both open is gone: another client opens the file. */
	t4_connect(t.srv, "linux-b", &other);
	oa.owner = (const uint8_t *)"o2";
	assert_st(st4_open(t.srv, other.c, &oa, &sid), ST4_OK);
	t4_end(t.srv, &other);
	t4_stop(&t);
}

/* Case 3: another principal for an owner in use. */
static void test_exchange_id_clid_inuse(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client tc;
	t4_confirm(t.srv, "linux-a", 1, &tc);
	struct st4_exchange_id_args a = t4_eid_args("linux-a", 1);
	a.principal.uid = 1000;
	struct st4_exchange_id_res r;
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_ERR_CLID_INUSE);
	/* Without sessions or state the record is not in use: a new one replaces it. */
	assert_st(st4_destroy_session(t.srv, tc.sessionid, NULL, 1), ST4_OK);
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_OK);
	assert_true(r.clientid != tc.clientid);
	t4_stop(&t);
}

/* Cases 6 to 9: EXCHGID4_FLAG_UPD_CONFIRMED_REC_A. */
static void test_exchange_id_update(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct st4_exchange_id_args a = t4_eid_args("linux-a", 1);
	struct st4_exchange_id_res r;
	a.flags = ST4_EXCHGID_UPD_CONFIRMED_REC_A;
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_ERR_NOENT);
	struct t4_client tc;
	t4_confirm(t.srv, "linux-a", 1, &tc);
	a.principal.uid = 5;
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_ERR_PERM);
	a.principal.uid = 0;
	a.verifier[3] = 42;
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_ERR_NOT_SAME);
	a.verifier[3] = 1;
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_OK);
	assert_int_equal(r.clientid, tc.clientid);
	assert_true(r.flags & ST4_EXCHGID_CONFIRMED_R);
	t4_stop(&t);
}

/* -------------------------------------------------------------- CREATE_SESSION */

static void test_stale_clientid(void **state)
{
	(void)state;
	struct t4 t1 = { 0 }, t2 = { 0 };
	struct st4_config cfg = t4_config(&t1);
	cfg.boot_verifier = 0x1111;
	t4_start(&t1, &cfg);
	struct st4_exchange_id_args a = t4_eid_args("linux-a", 1);
	struct st4_exchange_id_res r;
	assert_st(st4_exchange_id(t1.srv, &a, &r), ST4_OK);
	assert_int_equal(r.clientid >> 32, 0x1111);
	/* The same clientid at a server of another run. */
	cfg = t4_config(&t2);
	cfg.boot_verifier = 0x2222;
	t4_start(&t2, &cfg);
	struct st4_create_session_args ca = t4_cs_args(r.clientid, 1);
	struct st4_create_session_res cr;
	assert_st(st4_create_session(t2.srv, &ca, &cr), ST4_ERR_STALE_CLIENTID);
	assert_st(st4_destroy_clientid(t2.srv, r.clientid), ST4_ERR_STALE_CLIENTID);
	ca.clientid = r.clientid + 1; /* this run's, never handed out */
	assert_st(st4_create_session(t1.srv, &ca, &cr), ST4_ERR_STALE_CLIENTID);
	t4_stop(&t1);
	t4_stop(&t2);
}

static void test_create_session_sequence(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct st4_exchange_id_args a = t4_eid_args("linux-a", 1);
	struct st4_exchange_id_res r;
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_OK);
	struct st4_create_session_args ca = t4_cs_args(r.clientid, r.sequenceid + 1);
	struct st4_create_session_res cr1, cr2;
	assert_st(st4_create_session(t.srv, &ca, &cr1), ST4_ERR_SEQ_MISORDERED);
	ca.sequence = r.sequenceid;
	ca.principal.uid = 7;
	assert_st(st4_create_session(t.srv, &ca, &cr1), ST4_ERR_CLID_INUSE);
	ca.principal.uid = 0;
	assert_st(st4_create_session(t.srv, &ca, &cr1), ST4_OK);
	assert_int_equal(cr1.sequence, r.sequenceid);
	/* A retransmission: the same session, not a second one. */
	assert_st(st4_create_session(t.srv, &ca, &cr2), ST4_OK);
	assert_memory_equal(cr1.sessionid, cr2.sessionid, ST4_SESSIONID_SIZE);
	/* The next one is new; two back or ahead is misordered. */
	ca.sequence = r.sequenceid + 1;
	assert_st(st4_create_session(t.srv, &ca, &cr2), ST4_OK);
	assert_memory_not_equal(cr1.sessionid, cr2.sessionid, ST4_SESSIONID_SIZE);
	ca.sequence = r.sequenceid;
	assert_st(st4_create_session(t.srv, &ca, &cr2), ST4_ERR_SEQ_MISORDERED);
	ca.sequence = r.sequenceid + 5;
	assert_st(st4_create_session(t.srv, &ca, &cr2), ST4_ERR_SEQ_MISORDERED);
	/* An error after the sequence check is cached like a success. */
	ca.sequence = r.sequenceid + 2;
	ca.fore.maxrequestsize = 10;
	assert_st(st4_create_session(t.srv, &ca, &cr2), ST4_ERR_TOOSMALL);
	ca.fore.maxrequestsize = 1 << 20;
	assert_st(st4_create_session(t.srv, &ca, &cr2), ST4_ERR_TOOSMALL);
	ca.sequence = r.sequenceid + 3;
	ca.fore.maxrequests = 0;
	assert_st(st4_create_session(t.srv, &ca, &cr2), ST4_ERR_INVAL);
	t4_stop(&t);
}

static void test_create_session_negotiation(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	cfg.max_slots = 8;
	cfg.max_operations = 10;
	cfg.max_request_size = 65536;
	cfg.max_response_size = 32768;
	cfg.max_response_cached = 4096;
	cfg.max_sessions_per_client = 2;
	t4_start(&t, &cfg);
	struct st4_exchange_id_args a = t4_eid_args("linux-a", 1);
	struct st4_exchange_id_res r;
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_OK);
	struct st4_create_session_args ca = t4_cs_args(r.clientid, 1);
	ca.flags = ST4_CREATE_SESSION_PERSIST | ST4_CREATE_SESSION_CONN_BACK_CHAN |
		   ST4_CREATE_SESSION_CONN_RDMA;
	ca.fore.headerpadsize = 64;
	struct st4_create_session_res cr;
	assert_st(st4_create_session(t.srv, &ca, &cr), ST4_OK);
	assert_int_equal(cr.fore.headerpadsize, 0);
	assert_int_equal(cr.fore.maxrequests, 8);
	assert_int_equal(cr.fore.maxoperations, 10);
	assert_int_equal(cr.fore.maxrequestsize, 65536);
	assert_int_equal(cr.fore.maxresponsesize, 32768);
	assert_int_equal(cr.fore.maxresponsesize_cached, 4096);
	assert_int_equal(cr.flags, ST4_CREATE_SESSION_CONN_BACK_CHAN);
	assert_int_equal(cr.back.maxrequests, 1);
	/* Smaller than the server's: the client's own values. */
	ca.sequence = 2;
	ca.fore.maxrequests = 4;
	ca.fore.maxresponsesize_cached = 1000;
	assert_st(st4_create_session(t.srv, &ca, &cr), ST4_OK);
	assert_int_equal(cr.fore.maxrequests, 4);
	assert_int_equal(cr.fore.maxresponsesize_cached, 1000);
	uint8_t second[ST4_SESSIONID_SIZE];
	memcpy(second, cr.sessionid, sizeof(second));
	/* A third session is more than a client may have: not cached, the retry runs again. */
	ca.sequence = 3;
	assert_st(st4_create_session(t.srv, &ca, &cr), ST4_ERR_DELAY);
	assert_st(st4_destroy_session(t.srv, second, NULL, 1), ST4_OK);
	assert_st(st4_create_session(t.srv, &ca, &cr), ST4_OK);
	t4_stop(&t);
}

/* ---------------------------------------------------------- DESTROY_CLIENTID */

static void test_destroy_clientid(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client tc;
	t4_connect(t.srv, "linux-a", &tc);
	struct st4_open_args oa = t4_open_args(10, "o1", ST4_SHARE_ACCESS_READ, 0);
	struct st4_stateid sid, out;
	assert_st(st4_open(t.srv, tc.c, &oa, &sid), ST4_OK);
	t4_end(t.srv, &tc);
	assert_st(st4_destroy_clientid(t.srv, tc.clientid), ST4_ERR_CLIENTID_BUSY);
	/* Still busy with the open once the session is gone. */
	t4_begin(t.srv, &tc);
	struct st4_slot_ref ref = tc.ref;
	assert_st(st4_destroy_session(t.srv, tc.sessionid, &ref, 1), ST4_OK);
	t4_end(t.srv, &tc); /* the request finishes on the destroyed session */
	assert_st(st4_destroy_clientid(t.srv, tc.clientid), ST4_ERR_CLIENTID_BUSY);
	/* A new session to close the file, then destroy both. */
	struct st4_create_session_args ca = t4_cs_args(tc.clientid, 2);
	struct st4_create_session_res cr;
	assert_st(st4_create_session(t.srv, &ca, &cr), ST4_OK);
	memcpy(tc.sessionid, cr.sessionid, ST4_SESSIONID_SIZE);
	tc.seq = 0;
	t4_begin(t.srv, &tc);
	assert_st(st4_close(t.srv, tc.c, &sid, &oa.file, &out), ST4_OK);
	t4_end(t.srv, &tc);
	assert_st(st4_destroy_session(t.srv, tc.sessionid, NULL, 1), ST4_OK);
	assert_st(st4_destroy_clientid(t.srv, tc.clientid), ST4_OK);
	assert_int_equal(st4_client_count(t.srv), 0);
	assert_st(st4_destroy_clientid(t.srv, tc.clientid), ST4_ERR_STALE_CLIENTID);
	ca.sequence = 3;
	assert_st(st4_create_session(t.srv, &ca, &cr), ST4_ERR_STALE_CLIENTID);
	t4_stop(&t);
}

/* An unconfirmed client has nothing to be busy with. */
static void test_destroy_unconfirmed(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct st4_exchange_id_args a = t4_eid_args("linux-a", 1);
	struct st4_exchange_id_res r;
	assert_st(st4_exchange_id(t.srv, &a, &r), ST4_OK);
	assert_st(st4_destroy_clientid(t.srv, r.clientid), ST4_OK);
	assert_int_equal(st4_client_count(t.srv), 0);
	t4_stop(&t);
}

/* ---------------------------------------------------------- limits and leases */

static void test_client_limit(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	cfg.max_clients = 2;
	t4_start(&t, &cfg);
	struct t4_client a, b;
	t4_confirm(t.srv, "linux-a", 1, &a);
	t4_advance(&t, 50);
	t4_confirm(t.srv, "linux-b", 1, &b);
	struct st4_exchange_id_args ea = t4_eid_args("linux-c", 1);
	struct st4_exchange_id_res r;
	assert_st(st4_exchange_id(t.srv, &ea, &r), ST4_ERR_DELAY);
	/* a's lease runs out first: reaped to make room. */
	t4_advance(&t, 45);
	assert_st(st4_exchange_id(t.srv, &ea, &r), ST4_OK);
	assert_int_equal(st4_client_count(t.srv), 2);
	struct st4_create_session_args ca = t4_cs_args(a.clientid, 2);
	struct st4_create_session_res cr;
	assert_st(st4_create_session(t.srv, &ca, &cr), ST4_ERR_STALE_CLIENTID);
	t4_stop(&t);
}

static void test_lease_expiry_frees_state(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a, b;
	t4_connect(t.srv, "linux-a", &a);
	struct st4_open_args oa =
		t4_open_args(10, "oa", ST4_SHARE_ACCESS_BOTH, ST4_SHARE_DENY_BOTH);
	struct st4_stateid osid, lsid;
	assert_st(st4_open(t.srv, a.c, &oa, &osid), ST4_OK);
	struct st4_lock_args la = { .file = oa.file,
				    .type = ST4_LOCK_WRITE,
				    .offset = 0,
				    .length = UINT64_MAX,
				    .new_lock_owner = true,
				    .stateid = osid,
				    .lock_owner = (const uint8_t *)"la",
				    .lock_owner_len = 2 };
	struct st4_lock_denied d;
	assert_st(st4_lock(t.srv, a.c, &la, &lsid, &d), ST4_OK);
	t4_end(t.srv, &a);

	t4_connect(t.srv, "linux-b", &b);
	struct st4_open_args ob = t4_open_args(10, "ob", ST4_SHARE_ACCESS_READ, 0);
	struct st4_stateid bsid;
	assert_st(st4_open(t.srv, b.c, &ob, &bsid), ST4_ERR_SHARE_DENIED);
	t4_end(t.srv, &b);

	t4_advance(&t, 60);
	t4_begin(t.srv, &b); /* b renews; a does not */
	t4_end(t.srv, &b);
	t4_advance(&t, 31);
	st4_reap(t.srv);
	assert_int_equal(st4_client_count(t.srv), 1);

	t4_begin(t.srv, &b);
	assert_st(st4_open(t.srv, b.c, &ob, &bsid), ST4_OK);
	/* a's stateids are of an expired client. */
	enum st4_status ts[2];
	struct st4_stateid sids[2] = { osid, lsid };
	st4_test_stateids(t.srv, b.c, sids, 2, ts);
	assert_st(ts[0], ST4_ERR_EXPIRED);
	assert_st(ts[1], ST4_ERR_EXPIRED);
	la.new_lock_owner = true;
	la.stateid = bsid;
	la.type = ST4_LOCK_READ;
	la.lock_owner = (const uint8_t *)"lb";
	assert_st(st4_lock(t.srv, b.c, &la, &lsid, &d), ST4_OK);
	t4_end(t.srv, &b);

	struct st4_sequence_args sa = { 0 };
	struct st4_sequence_res sr;
	struct st4_slot_ref ref;
	memcpy(sa.sessionid, a.sessionid, ST4_SESSIONID_SIZE);
	sa.sequenceid = a.seq + 1;
	assert_st(st4_sequence(t.srv, &sa, &sr, &ref), ST4_ERR_BADSESSION);
	struct st4_create_session_args ca = t4_cs_args(a.clientid, 2);
	struct st4_create_session_res cr;
	assert_st(st4_create_session(t.srv, &ca, &cr), ST4_ERR_STALE_CLIENTID);
	t4_stop(&t);
}

static void test_lease_renewed_by_sequence(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a;
	t4_connect(t.srv, "linux-a", &a);
	t4_end(t.srv, &a);
	for (int i = 0; i < 5; i++) {
		t4_advance(&t, 60);
		t4_begin(t.srv, &a);
		t4_end(t.srv, &a);
		st4_reap(t.srv);
		assert_int_equal(st4_client_count(t.srv), 1);
	}
	assert_int_equal(st4_lease_seconds(t.srv), 90);
	t4_stop(&t);
}

/* A request in progress holds the lease; a SEQUENCE after it ran out finds it gone. */
static void test_lease_inflight_and_late_sequence(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a;
	t4_connect(t.srv, "linux-a", &a);
	t4_advance(&t, 200);
	st4_reap(t.srv);
	assert_int_equal(st4_client_count(t.srv), 1);
	t4_end(t.srv, &a);
	t4_advance(&t, 91);
	/* No sweep yet: SEQUENCE itself notices. */
	struct st4_sequence_args sa = { 0 };
	struct st4_sequence_res sr;
	struct st4_slot_ref ref;
	memcpy(sa.sessionid, a.sessionid, ST4_SESSIONID_SIZE);
	sa.sequenceid = a.seq + 1;
	assert_st(st4_sequence(t.srv, &sa, &sr, &ref), ST4_ERR_BADSESSION);
	assert_int_equal(st4_client_count(t.srv), 0);
	t4_stop(&t);
}

/* ------------------------------------------------------------------- stateids */

static void test_stateid_classify(void **state)
{
	(void)state;
	struct st4_stateid s = { 0 };
	assert_int_equal(st4_stateid_classify(&s), ST4_SID_ANONYMOUS);
	s.seqid = 1;
	assert_int_equal(st4_stateid_classify(&s), ST4_SID_CURRENT);
	s.seqid = UINT32_MAX;
	assert_int_equal(st4_stateid_classify(&s), ST4_SID_INVALID);
	assert_int_equal(st4_stateid_classify(&st4_invalid_stateid), ST4_SID_INVALID);
	s.seqid = 2;
	assert_int_equal(st4_stateid_classify(&s), ST4_SID_BAD_SPECIAL);
	memset(s.other, 0xff, sizeof(s.other));
	s.seqid = UINT32_MAX;
	assert_int_equal(st4_stateid_classify(&s), ST4_SID_BYPASS);
	s.seqid = 0;
	assert_int_equal(st4_stateid_classify(&s), ST4_SID_BAD_SPECIAL);
	s.other[5] = 0;
	assert_int_equal(st4_stateid_classify(&s), ST4_SID_REGULAR);
}

static void test_stateid_seqid_rules(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a, b;
	t4_connect(t.srv, "linux-a", &a);
	t4_connect(t.srv, "linux-b", &b);
	struct st4_open_args oa = t4_open_args(10, "o1", ST4_SHARE_ACCESS_READ, 0);
	struct st4_stateid s1, s2;
	assert_st(st4_open(t.srv, a.c, &oa, &s1), ST4_OK);
	assert_int_equal(s1.seqid, 1);
	oa.access = ST4_SHARE_ACCESS_WRITE;
	assert_st(st4_open(t.srv, a.c, &oa, &s2), ST4_OK);
	assert_int_equal(s2.seqid, 2);
	assert_memory_equal(s1.other, s2.other, sizeof(s1.other));

	struct st4_stateid probe[6];
	enum st4_status ts[6];
	probe[0] = s2; /* current */
	probe[1] = s1; /* older */
	probe[2] = s2;
	probe[2].seqid = 3; /* ahead */
	probe[3] = s2;
	probe[3].seqid = 0; /* "the current one" */
	probe[4] = s2;
	probe[4].other[5] ^= 1;		      /* unknown */
	probe[5] = (struct st4_stateid){ 0 }; /* special */
	st4_test_stateids(t.srv, a.c, probe, 6, ts);
	assert_st(ts[0], ST4_OK);
	assert_st(ts[1], ST4_ERR_OLD_STATEID);
	assert_st(ts[2], ST4_ERR_BAD_STATEID);
	assert_st(ts[3], ST4_OK);
	assert_st(ts[4], ST4_ERR_BAD_STATEID);
	assert_st(ts[5], ST4_ERR_BAD_STATEID);
	/* Another client's stateid, and one of another boot. */
	st4_test_stateids(t.srv, b.c, &s2, 1, ts);
	assert_st(ts[0], ST4_ERR_BAD_STATEID);
	probe[0] = s2;
	probe[0].other[0] ^= 0x80;
	st4_test_stateids(t.srv, a.c, probe, 1, ts);
	assert_st(ts[0], ST4_ERR_BAD_STATEID);
	/* The old seqid is refused by the operations too. */
	struct st4_stateid out;
	assert_st(st4_open_downgrade(t.srv, a.c, &s1, &oa.file, ST4_SHARE_ACCESS_READ, 0, &out),
		  ST4_ERR_OLD_STATEID);
	assert_st(st4_close(t.srv, a.c, &probe[2], &oa.file, &out), ST4_ERR_BAD_STATEID);
	t4_end(t.srv, &a);
	t4_end(t.srv, &b);
	t4_stop(&t);
}

static struct st4_lock_args lock_args(struct st4_stateid sid, const char *owner, uint64_t off,
				      uint64_t len, enum st4_lock_type type)
{
	struct st4_lock_args la = { 0 };
	la.file = t4_file(10);
	la.type = type;
	la.offset = off;
	la.length = len;
	la.new_lock_owner = owner != NULL;
	la.stateid = sid;
	la.lock_owner = (const uint8_t *)owner;
	la.lock_owner_len = owner ? (uint32_t)strlen(owner) : 0;
	return la;
}

static void test_free_stateid(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a;
	t4_connect(t.srv, "linux-a", &a);
	struct st4_open_args oa = t4_open_args(10, "o1", ST4_SHARE_ACCESS_BOTH, 0);
	struct st4_stateid osid, lsid, out;
	struct st4_lock_denied d;
	assert_st(st4_open(t.srv, a.c, &oa, &osid), ST4_OK);
	struct st4_lock_args la = lock_args(osid, "l1", 0, 10, ST4_LOCK_WRITE);
	assert_st(st4_lock(t.srv, a.c, &la, &lsid, &d), ST4_OK);
	assert_st(st4_free_stateid(t.srv, a.c, &osid), ST4_ERR_LOCKS_HELD);
	assert_st(st4_free_stateid(t.srv, a.c, &lsid), ST4_ERR_LOCKS_HELD);
	assert_st(st4_locku(t.srv, a.c, &lsid, &oa.file, 0, 10, &lsid), ST4_OK);
	/* No locks left: the lock stateid stays valid (8.2.4) until freed. */
	enum st4_status ts;
	st4_test_stateids(t.srv, a.c, &lsid, 1, &ts);
	assert_st(ts, ST4_OK);
	assert_st(st4_free_stateid(t.srv, a.c, &lsid), ST4_OK);
	st4_test_stateids(t.srv, a.c, &lsid, 1, &ts);
	assert_st(ts, ST4_ERR_BAD_STATEID);
	assert_st(st4_free_stateid(t.srv, a.c, &lsid), ST4_ERR_BAD_STATEID);
	assert_st(st4_free_stateid(t.srv, a.c, &st4_invalid_stateid), ST4_ERR_BAD_STATEID);
	assert_st(st4_close(t.srv, a.c, &osid, &oa.file, &out), ST4_OK);
	t4_end(t.srv, &a);
	t4_stop(&t);
}

static void test_admin_revoke(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a, b;
	t4_connect(t.srv, "linux-a", &a);
	t4_connect(t.srv, "linux-b", &b);
	struct st4_open_args oa =
		t4_open_args(10, "o1", ST4_SHARE_ACCESS_BOTH, ST4_SHARE_DENY_WRITE);
	struct st4_stateid osid, lsid, out, bsid, blsid;
	struct st4_lock_denied d;
	assert_st(st4_open(t.srv, a.c, &oa, &osid), ST4_OK);
	struct st4_lock_args la = lock_args(osid, "l1", 0, 100, ST4_LOCK_WRITE);
	assert_st(st4_lock(t.srv, a.c, &la, &lsid, &d), ST4_OK);
	t4_end(t.srv, &a);

	assert_st(st4_client_revoke(t.srv, a.clientid), ST4_OK);
	assert_st(st4_client_revoke(t.srv, a.clientid + 1000), ST4_ERR_STALE_CLIENTID);

	/* b gets what a held. */
	struct st4_open_args ob = t4_open_args(10, "o2", ST4_SHARE_ACCESS_BOTH, 0);
	assert_st(st4_open(t.srv, b.c, &ob, &bsid), ST4_OK);
	la = lock_args(bsid, "l2", 50, 10, ST4_LOCK_WRITE);
	assert_st(st4_lock(t.srv, b.c, &la, &blsid, &d), ST4_OK);

	struct st4_sequence_args sa = { 0 };
	struct st4_sequence_res sr;
	memcpy(sa.sessionid, a.sessionid, ST4_SESSIONID_SIZE);
	sa.sequenceid = ++a.seq;
	assert_st(st4_sequence(t.srv, &sa, &sr, &a.ref), ST4_OK);
	a.c = a.ref.client;
	assert_true(sr.status_flags & ST4_SEQ4_STATUS_ADMIN_STATE_REVOKED);
	enum st4_status ts[2];
	struct st4_stateid sids[2] = { osid, lsid };
	st4_test_stateids(t.srv, a.c, sids, 2, ts);
	assert_st(ts[0], ST4_ERR_ADMIN_REVOKED);
	assert_st(ts[1], ST4_ERR_ADMIN_REVOKED);
	assert_st(st4_check_io(t.srv, a.c, &osid, &oa.file, false), ST4_ERR_ADMIN_REVOKED);
	assert_st(st4_close(t.srv, a.c, &osid, &oa.file, &out), ST4_ERR_ADMIN_REVOKED);
	assert_st(st4_free_stateid(t.srv, a.c, &lsid), ST4_OK);
	assert_st(st4_free_stateid(t.srv, a.c, &osid), ST4_OK);
	t4_end(t.srv, &a);
	t4_begin(t.srv, &a);
	t4_end(t.srv, &a);
	sa.sequenceid = ++a.seq;
	assert_st(st4_sequence(t.srv, &sa, &sr, &a.ref), ST4_OK);
	assert_int_equal(sr.status_flags, 0);
	t4_end(t.srv, &a);
	t4_end(t.srv, &b);
	t4_stop(&t);
}

static void test_state_limit(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	cfg.max_states_per_client = 3;
	t4_start(&t, &cfg);
	struct t4_client a;
	t4_connect(t.srv, "linux-a", &a);
	struct st4_stateid sid[4], out;
	for (int i = 0; i < 3; i++) {
		struct st4_open_args oa = t4_open_args(10 + i, "o1", ST4_SHARE_ACCESS_READ, 0);
		assert_st(st4_open(t.srv, a.c, &oa, &sid[i]), ST4_OK);
	}
	struct st4_open_args oa = t4_open_args(20, "o1", ST4_SHARE_ACCESS_READ, 0);
	assert_st(st4_open(t.srv, a.c, &oa, &sid[3]), ST4_ERR_DELAY);
	/* An upgrade of an existing open needs no new state. */
	oa = t4_open_args(10, "o1", ST4_SHARE_ACCESS_WRITE, 0);
	assert_st(st4_open(t.srv, a.c, &oa, &sid[0]), ST4_OK);
	struct st4_filekey f11 = t4_file(11);
	assert_st(st4_close(t.srv, a.c, &sid[1], &f11, &out), ST4_OK);
	oa = t4_open_args(20, "o1", ST4_SHARE_ACCESS_READ, 0);
	assert_st(st4_open(t.srv, a.c, &oa, &sid[3]), ST4_OK);
	t4_end(t.srv, &a);
	t4_stop(&t);
}

/* ---------------------------------------------------------------------- opens */

static bool expect_conflict(uint32_t a1, uint32_t d1, uint32_t a2, uint32_t d2)
{
	return (a2 & d1) || (d2 & a1);
}

/* Every pair of (access, deny) between two clients and between two owners of one. */
static void test_share_reservations(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a, b;
	t4_connect(t.srv, "linux-a", &a);
	t4_connect(t.srv, "linux-b", &b);
	uint64_t ino = 100;
	for (uint32_t a1 = 1; a1 <= 3; a1++)
		for (uint32_t d1 = 0; d1 <= 3; d1++)
			for (uint32_t a2 = 1; a2 <= 3; a2++)
				for (uint32_t d2 = 0; d2 <= 3; d2++)
					for (int same_client = 0; same_client < 2; same_client++) {
						struct t4_client *second = same_client ? &a : &b;
						struct st4_open_args o1 =
							t4_open_args(ino, "x", a1, d1);
						struct st4_open_args o2 =
							t4_open_args(ino, "y", a2, d2);
						struct st4_stateid s1, s2, out;
						assert_st(st4_open(t.srv, a.c, &o1, &s1), ST4_OK);
						enum st4_status want =
							expect_conflict(a1, d1, a2, d2)
								? ST4_ERR_SHARE_DENIED
								: ST4_OK;
						enum st4_status got =
							st4_open(t.srv, second->c, &o2, &s2);
						if (got != want)
							fail_msg("open %u/%u then %u/%u: %s, want "
								 "%s",
								 a1, d1, a2, d2,
								 st4_status_name(got),
								 st4_status_name(want));
						assert_st(
							st4_close(t.srv, a.c, &s1, &o1.file, &out),
							ST4_OK);
						if (got == ST4_OK)
							assert_st(st4_close(t.srv, second->c, &s2,
									    &o2.file, &out),
								  ST4_OK);
						ino++;
					}
	struct st4_open_args bad = t4_open_args(1, "x", 0, 0);
	struct st4_stateid s;
	assert_st(st4_open(t.srv, a.c, &bad, &s), ST4_ERR_INVAL);
	bad.access = 4;
	assert_st(st4_open(t.srv, a.c, &bad, &s), ST4_ERR_INVAL);
	bad.access = 1;
	bad.deny = 4;
	assert_st(st4_open(t.srv, a.c, &bad, &s), ST4_ERR_INVAL);
	/* Want bits (no delegations here) are ignored. */
	bad.deny = 0;
	bad.access = ST4_SHARE_ACCESS_READ | 0x0400;
	assert_st(st4_open(t.srv, a.c, &bad, &s), ST4_OK);
	t4_end(t.srv, &a);
	t4_end(t.srv, &b);
	t4_stop(&t);
}

static void test_open_upgrade(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a, b;
	t4_connect(t.srv, "linux-a", &a);
	t4_connect(t.srv, "linux-b", &b);
	struct st4_open_args o1 = t4_open_args(10, "o1", ST4_SHARE_ACCESS_READ, 0);
	struct st4_open_args ob =
		t4_open_args(10, "ob", ST4_SHARE_ACCESS_READ, ST4_SHARE_DENY_WRITE);
	struct st4_stateid s1, s2, sb;
	assert_st(st4_open(t.srv, a.c, &o1, &s1), ST4_OK);
	assert_st(st4_open(t.srv, b.c, &ob, &sb), ST4_OK);
	/* b denies writes: a's upgrade to write is refused and a's open is left as it was. */
	o1.access = ST4_SHARE_ACCESS_WRITE;
	assert_st(st4_open(t.srv, a.c, &o1, &s2), ST4_ERR_SHARE_DENIED);
	enum st4_status ts;
	st4_test_stateids(t.srv, a.c, &s1, 1, &ts);
	assert_st(ts, ST4_OK);
	struct st4_stateid out;
	assert_st(st4_close(t.srv, b.c, &sb, &ob.file, &out), ST4_OK);
	assert_st(st4_open(t.srv, a.c, &o1, &s2), ST4_OK);
	assert_memory_equal(s1.other, s2.other, sizeof(s1.other));
	assert_int_equal(s2.seqid, 2);
	/* The union: both accesses now, so write I/O is allowed and downgrading to read too. */
	assert_st(st4_check_io(t.srv, a.c, &s2, &o1.file, true), ST4_OK);
	assert_st(st4_open_downgrade(t.srv, a.c, &s2, &o1.file, ST4_SHARE_ACCESS_READ, 0, &out),
		  ST4_OK);
	assert_int_equal(out.seqid, 3);
	assert_st(st4_check_io(t.srv, a.c, &out, &o1.file, true), ST4_ERR_OPENMODE);
	t4_end(t.srv, &a);
	t4_end(t.srv, &b);
	t4_stop(&t);
}

static void test_open_downgrade(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a, b;
	t4_connect(t.srv, "linux-a", &a);
	t4_connect(t.srv, "linux-b", &b);
	struct st4_open_args o = t4_open_args(10, "o1", ST4_SHARE_ACCESS_READ, ST4_SHARE_DENY_READ);
	struct st4_stateid s, out;
	struct st4_filekey other = t4_file(11);
	assert_st(st4_open(t.srv, a.c, &o, &s), ST4_OK);
	assert_st(st4_open_downgrade(t.srv, a.c, &s, &o.file, ST4_SHARE_ACCESS_WRITE, 0, &out),
		  ST4_ERR_INVAL);
	assert_st(st4_open_downgrade(t.srv, a.c, &s, &o.file, ST4_SHARE_ACCESS_READ,
				     ST4_SHARE_DENY_BOTH, &out),
		  ST4_ERR_INVAL);
	assert_st(st4_open_downgrade(t.srv, a.c, &s, &o.file, 0, 0, &out), ST4_ERR_INVAL);
	assert_st(st4_open_downgrade(t.srv, a.c, &s, &other, ST4_SHARE_ACCESS_READ, 0, &out),
		  ST4_ERR_BAD_STATEID);
	/* b is kept out by the deny, until a drops it. */
	struct st4_open_args ob = t4_open_args(10, "ob", ST4_SHARE_ACCESS_READ, 0);
	struct st4_stateid sb;
	assert_st(st4_open(t.srv, b.c, &ob, &sb), ST4_ERR_SHARE_DENIED);
	assert_st(st4_open_downgrade(t.srv, a.c, &s, &o.file, ST4_SHARE_ACCESS_READ, 0, &out),
		  ST4_OK);
	assert_st(st4_open(t.srv, b.c, &ob, &sb), ST4_OK);
	t4_end(t.srv, &a);
	t4_end(t.srv, &b);
	t4_stop(&t);
}

static void test_close(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a;
	t4_connect(t.srv, "linux-a", &a);
	struct st4_open_args o = t4_open_args(10, "o1", ST4_SHARE_ACCESS_BOTH, 0);
	struct st4_stateid s, ls, ls2, out;
	struct st4_lock_denied d;
	struct st4_filekey other = t4_file(11);
	assert_st(st4_open(t.srv, a.c, &o, &s), ST4_OK);
	struct st4_lock_args la = lock_args(s, "l1", 0, 10, ST4_LOCK_READ);
	assert_st(st4_lock(t.srv, a.c, &la, &ls, &d), ST4_OK);
	la = lock_args(s, "l2", 20, 10, ST4_LOCK_READ);
	assert_st(st4_lock(t.srv, a.c, &la, &ls2, &d), ST4_OK);
	assert_st(st4_close(t.srv, a.c, &s, &o.file, &out), ST4_ERR_LOCKS_HELD);
	assert_st(st4_locku(t.srv, a.c, &ls, &o.file, 0, UINT64_MAX, &ls), ST4_OK);
	assert_st(st4_close(t.srv, a.c, &s, &o.file, &out), ST4_ERR_LOCKS_HELD);
	assert_st(st4_locku(t.srv, a.c, &ls2, &o.file, 20, 10, &ls2), ST4_OK);
	assert_st(st4_close(t.srv, a.c, &ls2, &o.file, &out), ST4_ERR_BAD_STATEID);
	assert_st(st4_close(t.srv, a.c, &s, &other, &out), ST4_ERR_BAD_STATEID);
	assert_st(st4_close(t.srv, a.c, &s, &o.file, &out), ST4_OK);
	assert_int_equal(st4_stateid_classify(&out), ST4_SID_INVALID);
	/* The open and its lock stateids are gone. */
	enum st4_status ts[3];
	struct st4_stateid sids[3] = { s, ls, ls2 };
	st4_test_stateids(t.srv, a.c, sids, 3, ts);
	for (int i = 0; i < 3; i++)
		assert_st(ts[i], ST4_ERR_BAD_STATEID);
	assert_st(st4_close(t.srv, a.c, &s, &o.file, &out), ST4_ERR_BAD_STATEID);
	t4_end(t.srv, &a);
	t4_stop(&t);
}

static void test_check_io(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a, b;
	t4_connect(t.srv, "linux-a", &a);
	t4_connect(t.srv, "linux-b", &b);
	struct st4_filekey f = t4_file(10), g = t4_file(11);
	struct st4_open_args ro =
		t4_open_args(10, "r", ST4_SHARE_ACCESS_READ, ST4_SHARE_DENY_WRITE);
	struct st4_open_args wo = t4_open_args(10, "w", ST4_SHARE_ACCESS_WRITE, 0);
	struct st4_stateid rs, ws, ls, out;
	struct st4_lock_denied d;
	assert_st(st4_open(t.srv, a.c, &ro, &rs), ST4_OK);
	assert_st(st4_check_io(t.srv, a.c, &rs, &f, false), ST4_OK);
	assert_st(st4_check_io(t.srv, a.c, &rs, &f, true), ST4_ERR_OPENMODE);
	assert_st(st4_check_io(t.srv, a.c, &rs, &g, false), ST4_ERR_BAD_STATEID);
	assert_st(st4_check_io(t.srv, b.c, &rs, &f, false), ST4_ERR_BAD_STATEID);
	struct st4_lock_args la = lock_args(rs, "l", 0, 1, ST4_LOCK_READ);
	assert_st(st4_lock(t.srv, a.c, &la, &ls, &d), ST4_OK);
	assert_st(st4_check_io(t.srv, a.c, &ls, &f, false), ST4_OK);
	assert_st(st4_check_io(t.srv, a.c, &ls, &f, true), ST4_ERR_OPENMODE);

	/* Special stateids against a's deny-write open. */
	struct st4_stateid anon = { 0 }, bypass = { .seqid = UINT32_MAX }, cur = { .seqid = 1 };
	memset(bypass.other, 0xff, sizeof(bypass.other));
	assert_st(st4_check_io(t.srv, b.c, &anon, &f, false), ST4_OK);
	assert_st(st4_check_io(t.srv, b.c, &anon, &f, true), ST4_ERR_LOCKED);
	assert_st(st4_check_io(t.srv, b.c, &bypass, &f, true), ST4_ERR_LOCKED);
	assert_st(st4_check_io(t.srv, b.c, &anon, &g, true), ST4_OK);
	assert_st(st4_check_io(t.srv, b.c, &cur, &f, false), ST4_ERR_BAD_STATEID);
	assert_st(st4_check_io(t.srv, b.c, &st4_invalid_stateid, &f, false), ST4_ERR_BAD_STATEID);
	assert_st(st4_locku(t.srv, a.c, &ls, &f, 0, 1, &ls), ST4_OK);
	assert_st(st4_close(t.srv, a.c, &rs, &f, &out), ST4_OK);

	/* Write-only opens may read (as knfsd); deny-read lets the bypass stateid read only. */
	wo.deny = ST4_SHARE_DENY_READ;
	assert_st(st4_open(t.srv, a.c, &wo, &ws), ST4_OK);
	assert_st(st4_check_io(t.srv, a.c, &ws, &f, false), ST4_OK);
	assert_st(st4_check_io(t.srv, a.c, &ws, &f, true), ST4_OK);
	assert_st(st4_check_io(t.srv, b.c, &anon, &f, false), ST4_ERR_LOCKED);
	assert_st(st4_check_io(t.srv, b.c, &bypass, &f, false), ST4_OK);
	assert_st(st4_check_io(t.srv, b.c, &anon, &f, true), ST4_OK);
	t4_end(t.srv, &a);
	t4_end(t.srv, &b);
	t4_stop(&t);
}

/* Before its RECLAIM_COMPLETE a client takes nothing new (18.51.3). */
static void test_open_needs_reclaim_complete(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a;
	t4_confirm(t.srv, "linux-a", 1, &a);
	t4_begin(t.srv, &a);
	struct st4_open_args o = t4_open_args(10, "o1", ST4_SHARE_ACCESS_READ, 0);
	struct st4_stateid s;
	assert_st(st4_open(t.srv, a.c, &o, &s), ST4_ERR_GRACE);
	o.reclaim = true;
	assert_st(st4_open(t.srv, a.c, &o, &s), ST4_ERR_NO_GRACE);
	assert_st(st4_reclaim_complete(t.srv, a.c, true), ST4_OK);
	assert_st(st4_reclaim_complete(t.srv, a.c, false), ST4_OK);
	assert_st(st4_reclaim_complete(t.srv, a.c, false), ST4_ERR_COMPLETE_ALREADY);
	assert_st(st4_open(t.srv, a.c, &o, &s), ST4_ERR_NO_GRACE);
	o.reclaim = false;
	assert_st(st4_open(t.srv, a.c, &o, &s), ST4_OK);
	assert_false(st4_in_grace(t.srv));
	t4_end(t.srv, &a);
	t4_stop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_values),
		cmocka_unit_test(test_exchange_id_new),
		cmocka_unit_test(test_exchange_id_retransmit),
		cmocka_unit_test(test_exchange_id_unconfirmed_replaced),
		cmocka_unit_test(test_exchange_id_client_reboot),
		cmocka_unit_test(test_exchange_id_clid_inuse),
		cmocka_unit_test(test_exchange_id_update),
		cmocka_unit_test(test_stale_clientid),
		cmocka_unit_test(test_create_session_sequence),
		cmocka_unit_test(test_create_session_negotiation),
		cmocka_unit_test(test_destroy_clientid),
		cmocka_unit_test(test_destroy_unconfirmed),
		cmocka_unit_test(test_client_limit),
		cmocka_unit_test(test_lease_expiry_frees_state),
		cmocka_unit_test(test_lease_renewed_by_sequence),
		cmocka_unit_test(test_lease_inflight_and_late_sequence),
		cmocka_unit_test(test_stateid_classify),
		cmocka_unit_test(test_stateid_seqid_rules),
		cmocka_unit_test(test_free_stateid),
		cmocka_unit_test(test_admin_revoke),
		cmocka_unit_test(test_state_limit),
		cmocka_unit_test(test_share_reservations),
		cmocka_unit_test(test_open_upgrade),
		cmocka_unit_test(test_open_downgrade),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_check_io),
		cmocka_unit_test(test_open_needs_reclaim_complete),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
