/*
 * loopnfs-crypt: gocryptfs -reverse's encrypted view without FUSE.
 *
 *   loopnfs-crypt init [--scryptn N] [--show-masterkey] [PASS] DIR
 *   loopnfs-crypt encrypt-tree [PASS] DIR OUTDIR
 *   loopnfs-crypt decrypt [PASS] CIPHERDIR OUTDIR
 *   loopnfs-crypt encrypt-path [PASS] DIR PATH   (where PATH is in the view)
 *
 * PASS: --passfile FILE | --extpass CMD; without either,
 * $CREDENTIALS_DIRECTORY/loopnfs-passphrase or the terminal.
 */
#define _GNU_SOURCE
#include "tool.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define EXIT_USAGE 2
#define EXIT_BAD_PASSWORD 12 /* gocryptfs's exit code for a wrong password */
#define DEFAULT_LOGN 16	     /* gocryptfs's default scrypt cost: 64 MiB */

struct opts {
	struct crypt_pass_opts pass;
	unsigned logn;
	bool show_masterkey;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loopnfs-crypt init [--scryptn N] [--show-masterkey] [PASS] DIR\n"
		"       loopnfs-crypt encrypt-tree [PASS] DIR OUTDIR\n"
		"       loopnfs-crypt decrypt [PASS] CIPHERDIR OUTDIR\n"
		"PASS: --passfile FILE | --extpass CMD (else $CREDENTIALS_DIRECTORY/%s,\n"
		"      else a prompt on the terminal)\n",
		CRYPT_CREDENTIAL_NAME);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "passfile", required_argument, NULL, 'p' },
		{ "extpass", required_argument, NULL, 'e' },
		{ "scryptn", required_argument, NULL, 'n' },
		{ "show-masterkey", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->pass.passfile = optarg;
			break;
		case 'e':
			o->pass.extpass = optarg;
			break;
		case 'n':
			o->logn = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o->logn < 10 || o->logn > 28) {
				tool_err("--scryptn takes 10..28 (got %s)", optarg);
				return -1;
			}
			break;
		case 'm':
			o->show_masterkey = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (o->pass.passfile && o->pass.extpass) {
		tool_err("give --passfile or --extpass, not both");
		return -1;
	}
	return 0;
}

/* As gocryptfs prints it: on a terminal (or when asked), never into a log by accident. */
static void show_masterkey(const uint8_t master[CRYPT_MASTERKEY_LEN], bool asked)
{
	char hex[CRYPT_MASTERKEY_HEX_MAX];
	if (!asked && !isatty(STDOUT_FILENO)) {
		printf("Not running on a terminal, suppressing master key display "
		       "(--show-masterkey prints it)\n");
		return;
	}
	crypt_masterkey_format(master, hex);
	/* Four groups per line; the first line keeps its trailing dash, as gocryptfs. */
	printf("\nYour master key is:\n\n    %.36s\n    %s\n\n", hex, hex + 36);
	printf("If the gocryptfs.conf file becomes corrupted or you ever forget your password,\n"
	       "there is only one hope for recovery: The master key. Print it to a piece of\n"
	       "paper and store it in a drawer. This message is only printed once.\n");
	OPENSSL_cleanse(hex, sizeof(hex));
}

static int cmd_init(const struct opts *o, const char *dir)
{
	char err[512], *pass;
	size_t passlen;
	uint8_t master[CRYPT_MASTERKEY_LEN];
	char *conf = tool_join(dir, CRYPT_CONF_NAME);
	if (access(conf, F_OK) == 0) {
		tool_err("%s exists: refusing to overwrite it", conf);
		free(conf);
		return 1;
	}
	struct crypt_pass_opts po = o->pass;
	po.twice = true;
	if (crypt_passphrase_get(&po, &pass, &passlen, err, sizeof(err)) < 0) {
		tool_err("%s", err);
		free(conf);
		return 1;
	}
	int r = crypt_config_create(conf, pass, passlen, o->logn, master, err, sizeof(err));
	crypt_passphrase_free(pass, passlen);
	if (r == 0) {
		show_masterkey(master, o->show_masterkey);
		printf("The gocryptfs-reverse filesystem has been created successfully: %s\n",
		       conf);
	} else {
		tool_err("%s", err);
	}
	OPENSSL_cleanse(master, sizeof(master));
	free(conf);
	return r == 0 ? 0 : 1;
}

/* Component by component, each under its directory's IV; longnames as the view shows them. */
static int view_path(const struct crypt_keys *k, const char *path, char **out)
{
	char *copy = strdup(path), *save = NULL, *cpath = strdup("");
	int r = copy && cpath ? 0 : -ENOMEM;
	for (char *c = copy ? strtok_r(copy, "/", &save) : NULL; r == 0 && c;
	     c = strtok_r(NULL, "/", &save)) {
		uint8_t diriv[CRYPT_IV_LEN];
		struct crypt_ventry e, nf;
		bool has_nf;
		crypt_path_iv(cpath, CRYPT_PURPOSE_DIRIV, diriv);
		r = crypt_view_entry(k, diriv, *cpath == '\0', c, &e, &nf, &has_nf);
		if (r == 0) {
			char *next = tool_join(cpath, e.vname);
			free(cpath);
			cpath = next;
		}
	}
	free(copy);
	*out = cpath;
	return r;
}

/* Passphrase, config, keys: what encrypt-tree and decrypt start with. */
static int open_keys(const struct opts *o, const char *conf, struct crypt_keys **k)
{
	char err[512], *pass;
	size_t passlen;
	struct crypt_config cf;
	if (crypt_config_load(conf, &cf, err, sizeof(err)) < 0 ||
	    crypt_passphrase_get(&o->pass, &pass, &passlen, err, sizeof(err)) < 0) {
		tool_err("%s", err);
		return 1;
	}
	int r = crypt_open_config(conf, pass, passlen, k, err, sizeof(err));
	crypt_passphrase_free(pass, passlen);
	if (r < 0) {
		tool_err("%s: %s", conf, err);
		return r == -EACCES ? EXIT_BAD_PASSWORD : 1;
	}
	return 0;
}

static int cmd_walk(const struct opts *o, bool encrypt, const char *src, const char *out)
{
	struct crypt_keys *k;
	char *conf = tool_join(src, encrypt ? CRYPT_CONF_NAME : CRYPT_CONF_VIEW_NAME);
	int r = open_keys(o, conf, &k);
	free(conf);
	if (r)
		return r;
	int failed = encrypt ? encrypt_tree(k, src, out) : decrypt_tree(k, src, out);
	crypt_keys_free(k);
	if (failed)
		tool_err("%d object%s failed", failed, failed == 1 ? "" : "s");
	return failed ? 1 : 0;
}

/* Print the view path of DIR's plaintext PATH (which need not exist). */
static int cmd_encrypt_path(const struct opts *o, const char *dir, const char *path)
{
	struct crypt_keys *k;
	char *conf = tool_join(dir, CRYPT_CONF_NAME);
	int r = open_keys(o, conf, &k);
	free(conf);
	if (r)
		return r;
	char *cpath = NULL;
	r = view_path(k, path, &cpath);
	if (r < 0)
		tool_err("%s: %s", path, strerror(-r));
	else
		printf("%s\n", cpath);
	free(cpath);
	crypt_keys_free(k);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .logn = DEFAULT_LOGN };
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (parse_opts(argc - 1, argv + 1, &o) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	int nargs = argc - 1 - optind;
	char **args = argv + 1 + optind;
	if (strcmp(cmd, "init") == 0 && nargs == 1)
		return cmd_init(&o, args[0]);
	if (strcmp(cmd, "encrypt-tree") == 0 && nargs == 2)
		return cmd_walk(&o, true, args[0], args[1]);
	if (strcmp(cmd, "decrypt") == 0 && nargs == 2)
		return cmd_walk(&o, false, args[0], args[1]);
	if (strcmp(cmd, "encrypt-path") == 0 && nargs == 2)
		return cmd_encrypt_path(&o, args[0], args[1]);
	usage(stderr);
	return EXIT_USAGE;
}
