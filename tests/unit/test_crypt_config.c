/*
 * gocryptfs's config file and the passphrase sources. The pinned config is
 * what `gocryptfs -init -reverse -scryptn 10 -passfile PW p` (2.3, under
 * script(1) so that it prints the master key) wrote with PW = "test
 * passphrase"; the master key below is the one it printed.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "crypt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char pinned_conf[] =
	"{\n"
	"\t\"Creator\": \"gocryptfs 2.3\",\n"
	"\t\"EncryptedKey\": \"zmKyakmKsnJSsxyronFFeCxpg6qWhzHBgWSpRhMsuBYlpXis4tyTje5LgJtTl3aQ7p"
	"DePV69iBacH1iMasdVFw==\",\n"
	"\t\"ScryptObject\": {\n"
	"\t\t\"Salt\": \"U+w8Teu40GESghF+RLcm/9V+JZUAt7Eq6SF5AIXXWl0=\",\n"
	"\t\t\"N\": 1024,\n"
	"\t\t\"R\": 8,\n"
	"\t\t\"P\": 1,\n"
	"\t\t\"KeyLen\": 32\n"
	"\t},\n"
	"\t\"Version\": 2,\n"
	"\t\"FeatureFlags\": [\n"
	"\t\t\"HKDF\",\n"
	"\t\t\"GCMIV128\",\n"
	"\t\t\"DirIV\",\n"
	"\t\t\"EMENames\",\n"
	"\t\t\"LongNames\",\n"
	"\t\t\"Raw64\",\n"
	"\t\t\"AESSIV\"\n"
	"\t]\n"
	"}\n";
static const char pinned_master[] =
	"093e6b7d-f5b6498a-e93ce8be-9577b86a-b6559187-5f169b66-a8e9c984-"
	"08d4b7f8";
#define PASS "test passphrase"

static char *write_tmp(char **dir, const char *name, const char *text)
{
	*dir = ut_mkdtemp("cryptconf");
	char *p = ut_join(*dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static void done(char *dir, char *path)
{
	ut_rm_rf(dir);
	free(dir);
	free(path);
}

static void test_unlock_gocryptfs_config(void **state)
{
	char *dir, *path = write_tmp(&dir, CRYPT_CONF_NAME, pinned_conf), err[256], hex[80];
	struct crypt_config cf;
	uint8_t master[32];
	assert_int_equal(crypt_config_load(path, &cf, err, sizeof(err)), 0);
	assert_string_equal(cf.creator, "gocryptfs 2.3");
	assert_int_equal(cf.scrypt.n, 1024);
	assert_int_equal(crypt_config_unlock(&cf, PASS, strlen(PASS), master, err, sizeof(err)), 0);
	crypt_masterkey_format(master, hex);
	assert_string_equal(hex, pinned_master);
	/* A wrong passphrase is told apart from every other failure. */
	assert_int_equal(crypt_config_unlock(&cf, "test passphrasf", 15, master, err, sizeof(err)),
			 -EACCES);
	assert_non_null(strstr(err, "wrong passphrase"));
	struct crypt_keys *k = NULL;
	assert_int_equal(crypt_open_config(path, "nope", 4, &k, err, sizeof(err)), -EACCES);
	assert_null(k);
	assert_int_equal(crypt_open_config(path, PASS, strlen(PASS), &k, err, sizeof(err)), 0);
	crypt_keys_free(k);
	done(dir, path);
}

/* The config with one substitution: each must be refused with a message naming it. */
static void refused(const char *from, const char *to, int want, const char *msg)
{
	char *text = strdup(pinned_conf), *at = strstr(text, from), *dir, err[256];
	assert_non_null(at);
	char *edited;
	assert_true(asprintf(&edited, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) >
		    0);
	char *path = write_tmp(&dir, CRYPT_CONF_NAME, edited);
	struct crypt_config cf;
	err[0] = '\0';
	assert_int_equal(crypt_config_load(path, &cf, err, sizeof(err)), want);
	if (!strstr(err, msg))
		fail_msg("error \"%s\" does not say \"%s\"", err, msg);
	free(text);
	free(edited);
	done(dir, path);
}

static void test_refuses_what_it_does_not_implement(void **state)
{
	refused("\"AESSIV\"", "\"AESSIV\", \"FIDO2\"", -ENOTSUP, "\"FIDO2\" is not implemented");
	refused("\"AESSIV\"", "\"AESSIV\", \"PlaintextNames\"", -ENOTSUP, "PlaintextNames");
	refused(",\n\t\t\"AESSIV\"", "", -ENOTSUP, "\"AESSIV\" is missing");
	refused("\"HKDF\",", "", -ENOTSUP, "\"HKDF\" is missing");
	refused("\"Version\": 2", "\"Version\": 3", -ENOTSUP, "Version");
	refused("\"N\": 1024", "\"N\": 512", -EINVAL, "scrypt parameters");
	refused("\"N\": 1024", "\"N\": 1000", -EINVAL, "scrypt parameters");
	refused("\"R\": 8", "\"R\": 1", -EINVAL, "scrypt parameters");
	refused("\"KeyLen\": 32", "\"KeyLen\": 64", -EINVAL, "scrypt parameters");
	refused("zmKyakmK", "zmKy", -EINVAL, "EncryptedKey");
	refused("\"Version\"", "\"Version\": 2, \"Version\"", -EINVAL, ":");
}

static void test_create_then_unlock(void **state)
{
	char *dir = ut_mkdtemp("cryptconf"), *path = ut_join(dir, CRYPT_CONF_NAME), err[256];
	uint8_t master[32], again[32];
	struct crypt_config cf;
	struct stat st;
	assert_int_equal(
		crypt_config_create(path, PASS, strlen(PASS), 10, master, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0400);
	assert_int_equal(crypt_config_load(path, &cf, err, sizeof(err)), 0);
	assert_int_equal(cf.scrypt.n, 1024);
	assert_int_equal(cf.scrypt.saltlen, 32);
	assert_int_equal(crypt_config_unlock(&cf, PASS, strlen(PASS), again, err, sizeof(err)), 0);
	assert_memory_equal(master, again, 32);
	/* Laid out as gocryptfs writes it: tabs, its field order, its flag order, a newline. */
	char text[1024];
	FILE *f = fopen(path, "r");
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	const char *head = "{\n\t\"Creator\": \"loopnfs-crypt\",\n\t\"EncryptedKey\": \"";
	assert_memory_equal(text, head, strlen(head));
	assert_non_null(strstr(text, "\t\t\"KeyLen\": 32\n\t},\n\t\"Version\": 2,\n"
				     "\t\"FeatureFlags\": [\n\t\t\"HKDF\",\n\t\t\"GCMIV128\",\n"
				     "\t\t\"DirIV\",\n\t\t\"EMENames\",\n\t\t\"LongNames\",\n"
				     "\t\t\"Raw64\",\n\t\t\"AESSIV\"\n\t]\n}\n"));
	/* Never over an existing config, and nothing left behind by the attempt. */
	assert_int_equal(crypt_config_create(path, "x", 1, 10, again, err, sizeof(err)), -EEXIST);
	assert_int_equal(crypt_config_load(path, &cf, err, sizeof(err)), 0);
	assert_int_equal(crypt_config_unlock(&cf, PASS, strlen(PASS), again, err, sizeof(err)), 0);
	assert_int_equal(crypt_config_create(path, "x", 1, 9, again, err, sizeof(err)), -EINVAL);
	done(dir, path);
}

static int get(const struct crypt_pass_opts *o, char *want)
{
	char *p, err[256];
	size_t len;
	int r = crypt_passphrase_get(o, &p, &len, err, sizeof(err));
	if (r == 0) {
		assert_string_equal(p, want);
		assert_int_equal(len, strlen(want));
		crypt_passphrase_free(p, len);
	}
	return r;
}

static void test_passphrase_sources(void **state)
{
	char *dir, *path = write_tmp(&dir, "pw", "first line\nsecond\n");
	struct crypt_pass_opts o = { .passfile = path };
	assert_int_equal(get(&o, "first line"), 0);
	char *empty = ut_join(dir, "empty");
	FILE *f = fopen(empty, "w");
	fputs("\nsecret\n", f);
	fclose(f);
	o.passfile = empty;
	assert_int_equal(get(&o, ""), -EINVAL);
	o.passfile = "/nonexistent/pw";
	assert_int_equal(get(&o, ""), -ENOENT);
	o.passfile = NULL;
	o.extpass = "printf 'from cmd\\nrest'";
	assert_int_equal(get(&o, "from cmd"), 0);
	o.extpass = "echo pw; exit 3";
	assert_int_equal(get(&o, ""), -EIO);
	o.extpass = NULL;
	/* systemd's credential: a file named loopnfs-passphrase in $CREDENTIALS_DIRECTORY. */
	char *cred = ut_join(dir, CRYPT_CREDENTIAL_NAME);
	f = fopen(cred, "w");
	fputs("from systemd", f);
	fclose(f);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	assert_int_equal(get(&o, "from systemd"), 0);
	unsetenv("CREDENTIALS_DIRECTORY");
	/* Nothing given and no terminal (ctest under CI): a clear error. */
	int tty = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (tty < 0)
		assert_int_equal(get(&o, ""), -ENXIO);
	else
		close(tty);
	free(cred);
	free(empty);
	done(dir, path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlock_gocryptfs_config),
		cmocka_unit_test(test_refuses_what_it_does_not_implement),
		cmocka_unit_test(test_create_then_unlock),
		cmocka_unit_test(test_passphrase_sources),
	};
	return cmocka_run_group_tests_name("crypt_config", tests, NULL, NULL);
}
