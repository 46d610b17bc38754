/*
 * lan_client HOST PORT CMD ARGS: one NFS or MOUNT call as root from
 * wherever it runs (the LAN test runs it inside a client network
 * namespace), printing what came back for lan.sh to check:
 *   mnt PATH            "status=N fh=HEX"
 *   getattr FH          "status=N"
 *   lookup FH NAME      "status=N fh=HEX"
 *   create FH NAME      "status=N"
 *   ls FH               "status=N" then one name per line
 * Exit 0 when the call was answered, 2 when it could not be made.
 */
#define _GNU_SOURCE
#include "wtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_fh(const fh_t *fh)
{
	printf(" fh=");
	for (uint32_t i = 0; i < fh->len; i++)
		printf("%02x", fh->data[i]);
}

static int parse_fh(const char *hex, fh_t *fh)
{
	size_t n = strlen(hex);
	if (n % 2 || n / 2 > sizeof(fh->data))
		return -1;
	fh->len = (uint32_t)(n / 2);
	for (size_t i = 0; i < fh->len; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &fh->data[i]) != 1)
			return -1;
	return 0;
}

static int run(itc_t *c, int argc, char **argv)
{
	const char *cmd = argv[0];
	fh_t fh;
	if (strcmp(cmd, "mnt") == 0 && argc == 2) {
		mountres3 m;
		if (itc_mnt3(c, argv[1], &m) != 0)
			return 2;
		printf("status=%d", (int)m.fhs_status);
		if (m.fhs_status == MNT3_OK) {
			fh.len = m.mountres3_u.mountinfo.fhandle.fhandle3_len;
			memcpy(fh.data, m.mountres3_u.mountinfo.fhandle.fhandle3_val, fh.len);
			print_fh(&fh);
		}
		printf("\n");
		return 0;
	}
	if (argc < 2 || parse_fh(argv[1], &fh) != 0)
		return 2;
	if (strcmp(cmd, "getattr") == 0) {
		GETATTR3res r;
		if (itc_getattr(c, &fh, &r) != 0)
			return 2;
		printf("status=%d\n", (int)r.status);
		return 0;
	}
	if (strcmp(cmd, "lookup") == 0 && argc == 3) {
		LOOKUP3res r;
		if (itc_lookup(c, &fh, argv[2], &r) != 0)
			return 2;
		printf("status=%d", (int)r.status);
		if (r.status == NFS3_OK) {
			fh_t got = itc_fh(&r.LOOKUP3res_u.resok.object);
			print_fh(&got);
		}
		printf("\n");
		return 0;
	}
	if (strcmp(cmd, "create") == 0 && argc == 3) {
		CREATE3res r;
		sattr3 sa = wt_sattr_mode(0644);
		if (wtc_create(c, &fh, argv[2], GUARDED, &sa, NULL, &r) != 0)
			return 2;
		printf("status=%d\n", (int)r.status);
		return 0;
	}
	if (strcmp(cmd, "ls") == 0) {
		READDIR3res r;
		char verf[NFS3_COOKIEVERFSIZE] = { 0 };
		if (itc_readdir(c, &fh, 0, verf, 65536, &r) != 0)
			return 2;
		printf("status=%d\n", (int)r.status);
		if (r.status == NFS3_OK)
			for (entry3 *e = r.READDIR3res_u.resok.reply.entries; e; e = e->nextentry)
				printf("%s\n", e->name);
		return 0;
	}
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: lan_client HOST PORT CMD ARGS...\n");
		return 2;
	}
	itc_t *c = wt_connect_host(argv[1], atoi(argv[2]));
	if (!c)
		return 2;
	wt_set_auth(c, 0, 0, 0, NULL);
	int rc = run(c, argc - 3, argv + 3);
	itc_close(c);
	itest_arena_free();
	return rc;
}
