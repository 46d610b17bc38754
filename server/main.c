/* loopnfsd: serve a local directory over NFSv3 and MOUNT. */
#define _GNU_SOURCE
#include "cred.h"
#include "drc.h"
#include "ebr.h"
#include "export.h"
#include "exports_conf.h"
#include "fh.h"
#include "fh_dircache.h"
#include "fs.h"
#include "log.h"
#include "nfs3.h"
#include "nfs4.h"
#include "objcache.h"
#include "rpcbind.h"
#include "transport.h"
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef LOOPNFS_VERSION
#define LOOPNFS_VERSION "0.1.0"
#endif

#define DEFAULT_PORT_ROOT 2049
#define DEFAULT_PORT_USER 20490
#define SWEEP_INTERVAL_S 5
#define IO_FD_IDLE_S 10.0
#define CACHE_MAX_OBJECTS 8192

void mount_shutdown(void);

struct options {
	struct transport_config tc;
	struct export_opts eo;
	bool no_rpcbind;
	bool crossmnt;
	const char *state_dir;
	const char *exports_file; /* -c: the exports file; else the DIRs, for the local host */
	bool check_only;
	char **dirs;
	int ndirs;
	char *rdirs[EXPORT_MAX]; /* --reverse-encrypt DIR */
	int nrdirs;
	char *excludes[EXPORT_MAX * 4]; /* --exclude PATTERN */
	int nexcludes;
	const char *passfile, *extpass;
	struct nfs4_config v4;
	bool listen_given;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: loopnfsd [options] DIR...\n"
		"       loopnfsd [options] -c FILE [--check]\n"
		"Serve DIR over NFSv3 (and MOUNT v1/v3) so that `mount -t nfs HOST:/ MNT` shows "
		"it.\n"
		"With several DIRs, / is a read-only directory holding each under its base name.\n"
		"DIRs are exported to this host only (loopback); an exports file "
		"(loopnfs.exports(5))\n"
		"says which other hosts may reach which directory, with which options.\n"
		"\n"
		"  -c, --exports FILE    serve the exports FILE describes (SIGHUP re-reads it)\n"
		"      --check           with -c: validate FILE, print what would be served, exit\n"
		"  -l, --listen ADDR     address to listen on (repeatable; default 127.0.0.1 and "
		"::1)\n"
		"  -p, --port N          NFS port (default 2049 as root, else 20490; 0 = any "
		"free)\n"
		"  -m, --mount-port N    MOUNT port (default: the NFS port)\n"
		"      --no-rpcbind      do not register with rpcbind\n"
		"      --no-udp          TCP only\n"
		"      --no-nfs4         NFSv3 only (else NFSv4.1 too, with locks, on the same "
		"port)\n"
		"      --lease-time S    NFSv4.1 lease: a client silent for S seconds loses its\n"
		"                        opens and locks (default 90)\n"
		"      --grace-time S    after a restart, S seconds for clients to reclaim their\n"
		"                        locks (default: the lease time)\n"
		"      --ro              DIRs: export read-only\n"
		"      --crossmnt        DIRs: serve filesystems mounted below them (else a mount\n"
		"                        point shows the directory it covers)\n"
		"      --root-squash     DIRs: map local root to the anonymous ids\n"
		"      --no-root-squash  DIRs: local root stays root (the default)\n"
		"      --all-squash      DIRs: map every user to the anonymous ids\n"
		"      --anonuid N       anonymous uid (default 65534)\n"
		"      --anongid N       anonymous gid (default 65534)\n"
		"      --reverse-encrypt DIR  serve DIR's encrypted view, read-only, byte for "
		"byte\n"
		"                        what `gocryptfs -reverse` shows (repeatable; DIR needs a\n"
		"                        .gocryptfs.reverse.conf: `loopnfs-crypt init DIR`)\n"
		"      --exclude PATTERN leave plaintext paths matching PATTERN (gitignore-style,\n"
		"                        as gocryptfs -exclude-wildcard) out of the view "
		"(repeatable)\n"
		"      --passfile FILE   the view's passphrase: the first line of FILE\n"
		"      --extpass CMD     the view's passphrase: the first line CMD prints\n"
		"                        (else $CREDENTIALS_DIRECTORY/loopnfs-passphrase, else a\n"
		"                        prompt on the terminal)\n"
		"  -t, --threads N       worker threads (default 16)\n"
		"      --event-threads N threads that read connections (default: one per CPU, at "
		"most 4)\n"
		"      --max-conns N     connection limit (default 1024)\n"
		"      --idle-timeout S  close idle connections after S seconds (default 900)\n"
		"  -s, --state-dir DIR   where the file handle key lives (default "
		"/var/lib/loopnfs\n"
		"                        as root, else ~/.local/state/loopnfs)\n"
		"  -v, --log-level L     error, warn, info (default) or debug\n"
		"  -h, --help            this text\n"
		"  -V, --version         print the version\n");
}

static int parse_num(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "loopnfsd: %s: '%s' is not a number from %ld to %ld\n", opt, s, min,
			max);
		return -1;
	}
	*out = v;
	return 0;
}

static const char *default_state_dir(char *buf, size_t len)
{
	if (geteuid() == 0)
		return "/var/lib/loopnfs";
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	if (xdg && *xdg)
		snprintf(buf, len, "%s/loopnfs", xdg);
	else if (home && *home)
		snprintf(buf, len, "%s/.local/state/loopnfs", home);
	else
		return NULL;
	return buf;
}

/* mkdir -p for the state directory's parents. */
static void make_parents(const char *dir)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
}

enum {
	OPT_NO_RPCBIND = 256,
	OPT_NO_UDP,
	OPT_RO,
	OPT_NO_ROOT_SQUASH,
	OPT_ROOT_SQUASH,
	OPT_CHECK,
	OPT_ALL_SQUASH,
	OPT_ANONUID,
	OPT_ANONGID,
	OPT_MAX_CONNS,
	OPT_IDLE,
	OPT_EVENT_THREADS,
	OPT_CROSSMNT,
	OPT_REVERSE,
	OPT_EXCLUDE,
	OPT_PASSFILE,
	OPT_EXTPASS,
	OPT_NO_NFS4,
	OPT_NFS4,
	OPT_LEASE,
	OPT_GRACE,
};

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "mount-port", required_argument, NULL, 'm' },
		{ "no-rpcbind", no_argument, NULL, OPT_NO_RPCBIND },
		{ "no-udp", no_argument, NULL, OPT_NO_UDP },
		{ "ro", no_argument, NULL, OPT_RO },
		{ "crossmnt", no_argument, NULL, OPT_CROSSMNT },
		{ "reverse-encrypt", required_argument, NULL, OPT_REVERSE },
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "passfile", required_argument, NULL, OPT_PASSFILE },
		{ "extpass", required_argument, NULL, OPT_EXTPASS },
		{ "no-nfs4", no_argument, NULL, OPT_NO_NFS4 },
		{ "nfs4", no_argument, NULL, OPT_NFS4 },
		{ "lease-time", required_argument, NULL, OPT_LEASE },
		{ "grace-time", required_argument, NULL, OPT_GRACE },
		{ "no-root-squash", no_argument, NULL, OPT_NO_ROOT_SQUASH },
		{ "root-squash", no_argument, NULL, OPT_ROOT_SQUASH },
		{ "exports", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "all-squash", no_argument, NULL, OPT_ALL_SQUASH },
		{ "anonuid", required_argument, NULL, OPT_ANONUID },
		{ "anongid", required_argument, NULL, OPT_ANONGID },
		{ "threads", required_argument, NULL, 't' },
		{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
		{ "event-threads", required_argument, NULL, OPT_EVENT_THREADS },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "state-dir", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	long v;
	int c;
	while ((c = getopt_long(argc, argv, "c:l:p:m:t:s:v:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (o->tc.nlisten >= TRANSPORT_MAX_LISTEN) {
				fprintf(stderr, "loopnfsd: at most %d --listen addresses\n",
					TRANSPORT_MAX_LISTEN);
				return -1;
			}
			o->tc.listen[o->tc.nlisten++] = optarg;
			o->listen_given = true;
			break;
		case 'p':
			if (parse_num("--port", optarg, 0, 65535, &v))
				return -1;
			o->tc.port = (int)v;
			break;
		case 'm':
			if (parse_num("--mount-port", optarg, 0, 65535, &v))
				return -1;
			o->tc.mount_port = (int)v;
			break;
		case OPT_NO_RPCBIND:
			o->no_rpcbind = true;
			break;
		case OPT_NO_UDP:
			o->tc.udp = false;
			break;
		case OPT_RO:
			o->eo.ro = true;
			break;
		case OPT_CROSSMNT:
			o->crossmnt = true;
			break;
		case OPT_REVERSE:
			if (o->nrdirs >= EXPORT_MAX) {
				fprintf(stderr, "loopnfsd: at most %d --reverse-encrypt DIRs\n",
					EXPORT_MAX);
				return -1;
			}
			o->rdirs[o->nrdirs++] = optarg;
			break;
		case OPT_EXCLUDE:
			if (o->nexcludes >= (int)(sizeof(o->excludes) / sizeof(o->excludes[0]))) {
				fprintf(stderr, "loopnfsd: too many --exclude patterns\n");
				return -1;
			}
			o->excludes[o->nexcludes++] = optarg;
			break;
		case OPT_PASSFILE:
			o->passfile = optarg;
			break;
		case OPT_EXTPASS:
			o->extpass = optarg;
			break;
		case OPT_NO_NFS4:
			o->v4.enabled = false;
			break;
		case OPT_NFS4:
			o->v4.enabled = true;
			break;
		case OPT_LEASE:
			if (parse_num("--lease-time", optarg, 10, 3600, &v))
				return -1;
			o->v4.lease_seconds = (uint32_t)v;
			break;
		case OPT_GRACE:
			if (parse_num("--grace-time", optarg, 0, 3600, &v))
				return -1;
			o->v4.grace_seconds = (uint32_t)v;
			break;
		case OPT_NO_ROOT_SQUASH:
			o->eo.root_squash = false;
			break;
		case OPT_ROOT_SQUASH:
			o->eo.root_squash = true;
			break;
		case 'c':
			o->exports_file = optarg;
			break;
		case OPT_CHECK:
			o->check_only = true;
			break;
		case OPT_ALL_SQUASH:
			o->eo.all_squash = true;
			break;
		case OPT_ANONUID:
			if (parse_num("--anonuid", optarg, 0, UINT32_MAX - 1, &v))
				return -1;
			o->eo.anonuid = (uid_t)v;
			break;
		case OPT_ANONGID:
			if (parse_num("--anongid", optarg, 0, UINT32_MAX - 1, &v))
				return -1;
			o->eo.anongid = (gid_t)v;
			break;
		case 't':
			if (parse_num("--threads", optarg, 1, 1024, &v))
				return -1;
			o->tc.nthreads = (int)v;
			break;
		case OPT_EVENT_THREADS:
			if (parse_num("--event-threads", optarg, 1, 4, &v))
				return -1;
			o->tc.nloops = (int)v;
			break;
		case OPT_MAX_CONNS:
			if (parse_num("--max-conns", optarg, 1, 1000000, &v))
				return -1;
			o->tc.max_conns = (int)v;
			break;
		case OPT_IDLE:
			if (parse_num("--idle-timeout", optarg, 1, 86400 * 365, &v))
				return -1;
			o->tc.idle_timeout_s = (int)v;
			break;
		case 's':
			o->state_dir = optarg;
			break;
		case 'v': {
			enum log_level lvl;
			if (log_parse_level(optarg, &lvl) != 0) {
				fprintf(stderr, "loopnfsd: --log-level: unknown level '%s'\n",
					optarg);
				return -1;
			}
			log_set_level(lvl);
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("loopnfsd %s\n", LOOPNFS_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (o->exports_file && (optind < argc || o->nrdirs)) {
		fprintf(stderr, "loopnfsd: give DIRs or -c FILE, not both\n");
		return -1;
	}
	if (o->nexcludes && !o->nrdirs) {
		fprintf(stderr, "loopnfsd: --exclude applies to --reverse-encrypt DIRs "
				"(in an exports file: exclude=PATTERN)\n");
		return -1;
	}
	if (o->passfile && o->extpass) {
		fprintf(stderr, "loopnfsd: give --passfile or --extpass, not both\n");
		return -1;
	}
	if (o->check_only && !o->exports_file) {
		fprintf(stderr, "loopnfsd: --check needs -c FILE\n");
		return -1;
	}
	if (o->exports_file)
		return 0;
	if (optind >= argc && !o->nrdirs) {
		fprintf(stderr, "loopnfsd: missing DIR to export (or -c FILE)\n");
		usage(stderr);
		return -1;
	}
	if (argc - optind + o->nrdirs > EXPORT_MAX) {
		fprintf(stderr, "loopnfsd: at most %d DIRs\n", EXPORT_MAX);
		return -1;
	}
	o->dirs = argv + optind;
	o->ndirs = argc - optind;
	return 0;
}

static bool ipv6_loopback_usable(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bool ok = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	return ok;
}

/*
 * Each cached object holds up to three descriptors: the cache keeps to a
 * third of what the descriptor limit leaves after connections and streams.
 */
static void raise_fd_limit(int max_conns)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	rlim_t spare = rl.rlim_cur > (rlim_t)max_conns + 256 ? rl.rlim_cur - max_conns - 256 : 64;
	if (spare / 3 < CACHE_MAX_OBJECTS)
		oc_set_max((unsigned)(spare / 3));
}

static void print_ready(const struct options *o, bool registered)
{
	int port = transport_port(), mport = transport_mount_port();
	const char *host = o->tc.listen[0];
	bool any4 = strcmp(host, "0.0.0.0") == 0, any6 = strcmp(host, "::") == 0;
	char hbuf[300];
	if (!o->listen_given || strcmp(host, "127.0.0.1") == 0)
		host = "localhost";
	else if (any4 || any6)
		host = "$(hostname)";
	else if (strchr(host, ':')) {
		snprintf(hbuf, sizeof(hbuf), "[%s]", host);
		host = hbuf;
	}
	printf("loopnfsd: ready port=%d mount_port=%d dir=", port, mport);
	for (unsigned i = 0; i < export_count(); i++)
		printf("%s%s", i ? "," : "", export_get(i)->path);
	printf("\n");
	if (registered && port == 2049)
		printf("mount -t nfs %s:/ MNT\n", host);
	else
		printf("mount -t nfs -o "
		       "vers=3,proto=tcp,port=%d,mountport=%d,mountproto=tcp,nolock "
		       "%s:/ MNT\n",
		       port, mport, host);
	fflush(stdout);
}

/* --check: what -c FILE would serve, or why it would refuse. */
static int check_exports(const char *file)
{
	struct xc_file f;
	char err[2 * PATH_MAX + 256];
	if (xc_parse_file(file, &f, err, sizeof(err)) != 0) {
		fprintf(stderr, "loopnfsd: %s\n", err);
		return 1;
	}
	for (unsigned i = 0; i < f.nwarnings; i++)
		fprintf(stderr, "loopnfsd: warning: %s\n", f.warnings[i]);
	xc_print(&f, stdout);
	xc_free(&f);
	return 0;
}

static int load_exports(const struct options *o)
{
	char err[2 * PATH_MAX + 256];
	export_set_pass_defaults(o->passfile, o->extpass);
	if (o->exports_file) {
		if (export_load_file(o->exports_file, err, sizeof(err)) != 0) {
			fprintf(stderr, "loopnfsd: %s\n", err);
			return -1;
		}
		const struct xc_file *f = export_config();
		for (unsigned i = 0; i < f->nwarnings; i++)
			log_warn("%s", f->warnings[i]);
		return 0;
	}
	for (int i = 0; i < o->ndirs; i++) {
		struct export *ex = export_add(o->dirs[i], &o->eo, err, sizeof(err));
		if (!ex) {
			fprintf(stderr, "loopnfsd: cannot export %s\n", err);
			return -1;
		}
		ex->crossmnt = o->crossmnt;
	}
	for (int i = 0; i < o->nrdirs; i++) {
		if (!export_add_reverse(o->rdirs[i], &o->eo, o->excludes, (unsigned)o->nexcludes,
					err, sizeof(err))) {
			fprintf(stderr, "loopnfsd: cannot export the encrypted view of %s\n", err);
			return -1;
		}
	}
	if (export_finish(err, sizeof(err)) != 0) {
		fprintf(stderr, "loopnfsd: cannot export: %s\n", err);
		return -1;
	}
	return 0;
}

static bool listens_beyond_loopback(const struct options *o)
{
	for (int i = 0; i < o->tc.nlisten; i++) {
		const char *a = o->tc.listen[i];
		if (strcmp(a, "::1") != 0 && strncmp(a, "127.", 4) != 0 &&
		    strcmp(a, "localhost") != 0)
			return true;
	}
	return false;
}

static void log_exports(const struct options *o)
{
	const struct xc_file *f = export_config();
	for (unsigned i = 0; i < export_count(); i++) {
		const struct export *ex = export_get(i);
		bool view = ex->ops == &crypt_reverse_ops;
		log_info("serving %s%s%s%s%s%s", view ? "the encrypted view of " : "", ex->path,
			 export_pseudo_root() ? " as /" : "", export_pseudo_root() ? ex->name : "",
			 f		    ? ""
			 : o->eo.ro || view ? " (read-only, to this host)"
					    : " (to this host)",
			 cred_server_is_root()
				 ? ""
				 : ", as an unprivileged user: every client acts as it");
	}
	if (listens_beyond_loopback(o) && !(f && xc_reaches_remote(f)))
		log_warn("listening beyond the loopback addresses, but no export names a client "
			 "outside this host: other hosts get nothing (give -c FILE with their "
			 "addresses)");
}

/* SIGHUP: the new file applies to the next call of every connection; a broken one to none. */
static void reload_exports(const struct options *o)
{
	if (!o->exports_file) {
		log_info("SIGHUP: no exports file (-c) to re-read");
		return;
	}
	char err[2 * PATH_MAX + 256];
	if (export_load_file(o->exports_file, err, sizeof(err)) != 0) {
		log_error("reload refused, the exports in force stay: %s", err);
		return;
	}
	const struct xc_file *f = export_config();
	for (unsigned i = 0; i < f->nwarnings; i++)
		log_warn("%s", f->warnings[i]);
	log_info("reloaded %s: %u export%s", o->exports_file, export_count(),
		 export_count() == 1 ? "" : "s");
	log_exports(o);
}

int main(int argc, char **argv)
{
	struct options o = {
		.tc = { .port = -1, .mount_port = -1, .udp = true },
		/* The command line's DIRs go to the local host, whose root and users are trusted. */
		.eo = { .insecure = true, .anonuid = 65534, .anongid = 65534 },
		/* Until every operation the Linux client uses is written (--nfs4 turns it on). */
		.v4 = { .enabled = false },
	};
	if (parse_args(argc, argv, &o) != 0)
		return 2;
	if (o.check_only)
		return check_exports(o.exports_file);

	for (int i = 0; i < o.ndirs; i++) {
		struct stat st;
		if (stat(o.dirs[i], &st) != 0) {
			fprintf(stderr, "loopnfsd: cannot export %s: %s\n", o.dirs[i],
				strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "loopnfsd: cannot export %s: not a directory\n", o.dirs[i]);
			return 1;
		}
	}
	if (!o.listen_given) {
		o.tc.listen[o.tc.nlisten++] = "127.0.0.1";
		if (ipv6_loopback_usable())
			o.tc.listen[o.tc.nlisten++] = "::1";
	}
	if (o.tc.port < 0)
		o.tc.port = geteuid() == 0 ? DEFAULT_PORT_ROOT : DEFAULT_PORT_USER;

	/*
	 * READ and WRITE buffers are up to 1 MiB each: keep them on the heap
	 * for reuse instead of an mmap + page faults + munmap per call, in one
	 * arena: with one per worker, each would keep its own freed buffers
	 * and the peak RSS grows with the threads (67 -> 53 MiB at 4 x qd 16).
	 */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	mallopt(M_ARENA_MAX, 1);

	/* Modes come from the client, which has applied its own umask already. */
	umask(0);
	raise_fd_limit(o.tc.max_conns > 0 ? o.tc.max_conns : 1024);
	cred_init();
	nfs3_init_verifier();

	char sbuf[PATH_MAX];
	const char *state = o.state_dir ? o.state_dir : default_state_dir(sbuf, sizeof(sbuf));
	if (state)
		make_parents(state);
	if (fh_init(state) != 0)
		return 1;

	if (load_exports(&o) != 0)
		return 1;
	char v4err[PATH_MAX + 128];
	o.v4.state_dir = state;
	if (nfs4_init(&o.v4, v4err, sizeof(v4err)) != 0) {
		fprintf(stderr, "loopnfsd: %s\n", v4err);
		return 1;
	}

	/* Signals are taken synchronously by the main thread; workers never see them. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	int rc = transport_bind(&o.tc);
	if (rc != 0) {
		fprintf(stderr, "loopnfsd: cannot listen on port %d: %s\n", o.tc.port,
			rc == -EADDRINUSE ? "address already in use (another NFS server?)"
					  : strerror(-rc));
		return 1;
	}
	if (transport_start(&o.tc) != 0) {
		fprintf(stderr, "loopnfsd: cannot start worker threads\n");
		return 1;
	}

	bool registered = false;
	if (!o.no_rpcbind) {
		if (rpcbind_available()) {
			bool v4 = false, v6 = false;
			for (int i = 0; i < o.tc.nlisten; i++) {
				if (strchr(o.tc.listen[i], ':'))
					v6 = true;
				else
					v4 = true;
			}
			registered = rpcbind_register(transport_port(), transport_mount_port(), v4,
						      v6, o.tc.udp) == 0;
		} else {
			log_info("rpcbind is not running: not registering (clients need port= and "
				 "mountport= options)");
		}
	}
	log_exports(&o);
	print_ready(&o, registered);

	for (;;) {
		struct timespec tmo = { .tv_sec = SWEEP_INTERVAL_S };
		int sig = sigtimedwait(&sigs, NULL, &tmo);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (sig == SIGHUP)
			reload_exports(&o);
		/* Tables and views a reload replaced, once no request holds them. */
		ebr_reclaim();
		nfs4_reap();
		oc_sweep(IO_FD_IDLE_S);
		log_debug("cache: %u objects, %zu kept entry handles", oc_count(), dhc_entries());
		fs_readdir_sweep(IO_FD_IDLE_S);
		dhc_sweep(IO_FD_IDLE_S);
	}
	log_info("shutting down");
	if (registered)
		rpcbind_unregister();
	transport_stop();
	nfs4_shutdown();
	oc_shutdown();
	fs_readdir_sweep(0);
	dhc_sweep(0);
	drc_shutdown();
	mount_shutdown();
	export_free_all();
	return 0;
}
