/*
 * Where a command's passphrase comes from, the same for every command:
 * --passfile FILE, --extpass CMD, systemd's $CREDENTIALS_DIRECTORY, or the
 * controlling terminal with echo off. As gocryptfs: the first line only,
 * never empty, at most 2048 bytes. Every copy is wiped once used.
 */
#define _GNU_SOURCE
#include "crypt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define LINE_CAP (CRYPT_PASS_MAX + 2) /* the line, its newline, one more to see it is too long */

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

/* Read up to cap bytes or the first newline (a terminal delivers a line per read). */
static ssize_t read_line(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	while (got < cap && !memchr(buf, '\n', got)) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* buf's first line as the passphrase (malloc'ed), checked as gocryptfs checks it. */
static int take_first_line(char *buf, size_t got, const char *from, char **out, size_t *len,
			   char *err, size_t errlen)
{
	char *nl = memchr(buf, '\n', got);
	size_t n = nl ? (size_t)(nl - buf) : got;
	if (n == 0)
		return fail(err, errlen, -EINVAL, "%s: the passphrase (first line) is empty", from);
	if (n > CRYPT_PASS_MAX)
		return fail(err, errlen, -E2BIG, "%s: the passphrase is longer than %d bytes", from,
			    CRYPT_PASS_MAX);
	if (!(*out = malloc(n + 1)))
		return fail(err, errlen, -ENOMEM, "out of memory");
	memcpy(*out, buf, n);
	(*out)[n] = '\0';
	*len = n;
	return 0;
}

static int from_fd(int fd, const char *from, char **out, size_t *len, char *err, size_t errlen)
{
	char buf[LINE_CAP];
	ssize_t got = read_line(fd, buf, sizeof(buf));
	int r = got < 0 ? fail(err, errlen, (int)got, "%s: %s", from, strerror((int)-got))
			: take_first_line(buf, (size_t)got, from, out, len, err, errlen);
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

static int from_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, -errno, "passphrase file %s: %s", path, strerror(errno));
	int r = from_fd(fd, path, out, len, err, errlen);
	close(fd);
	return r;
}

static int wait_child(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* CMD through /bin/sh -c, its stdout's first line; stderr stays the caller's. */
static int from_extpass(const char *cmd, char **out, size_t *len, char *err, size_t errlen)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(err, errlen, -errno, "extpass: pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return fail(err, errlen, -errno, "extpass: fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	int r = from_fd(p[0], "extpass", out, len, err, errlen);
	close(p[0]);
	int st = wait_child(pid);
	if (r == 0 && st != 0) {
		crypt_passphrase_free(*out, *len);
		*out = NULL;
		r = fail(err, errlen, -EIO, "extpass: \"%s\" exited with status %d", cmd, st);
	}
	return r;
}

/* systemd's LoadCredential=loopnfs-passphrase:FILE, if the unit has one. */
static int from_credentials(char **out, size_t *len, bool *found, char *err, size_t errlen)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char *path;
	*found = false;
	if (!dir || !*dir)
		return 0;
	if (asprintf(&path, "%s/%s", dir, CRYPT_CREDENTIAL_NAME) < 0)
		return fail(err, errlen, -ENOMEM, "out of memory");
	int r = 0;
	if (access(path, F_OK) == 0) {
		*found = true;
		r = from_file(path, out, len, err, errlen);
	}
	free(path);
	return r;
}

/* One prompt on the terminal with echo off; the terminal is restored whatever happens. */
static int prompt_once(int tty, const char *prompt, char **out, size_t *len, char *err,
		       size_t errlen)
{
	struct termios old, quiet;
	if (tcgetattr(tty, &old) < 0)
		return fail(err, errlen, -errno, "terminal: %s", strerror(errno));
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(tty, prompt, strlen(prompt)) < 0 || tcsetattr(tty, TCSAFLUSH, &quiet) < 0)
		return fail(err, errlen, -errno, "terminal: %s", strerror(errno));
	int r = from_fd(tty, "terminal", out, len, err, errlen);
	tcsetattr(tty, TCSAFLUSH, &old);
	if (write(tty, "\n", 1) < 0) {
		/* the newline is only cosmetic */
	}
	return r;
}

static int from_tty(bool twice, bool allowed, char **out, size_t *len, char *err, size_t errlen)
{
	int tty = allowed ? open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
	if (tty < 0)
		return fail(err, errlen, -ENXIO,
			    "no passphrase: give --passfile FILE or --extpass CMD, or set "
			    "$CREDENTIALS_DIRECTORY/%s (systemd LoadCredential=), or run on a "
			    "terminal",
			    CRYPT_CREDENTIAL_NAME);
	char *again = NULL;
	size_t again_len = 0;
	int r = prompt_once(tty, "Password: ", out, len, err, errlen);
	if (r == 0 && twice)
		r = prompt_once(tty, "Repeat: ", &again, &again_len, err, errlen);
	if (r == 0 && twice && (again_len != *len || CRYPTO_memcmp(again, *out, *len) != 0)) {
		crypt_passphrase_free(*out, *len);
		*out = NULL;
		r = fail(err, errlen, -EINVAL, "the passphrases do not match");
	}
	crypt_passphrase_free(again, again_len);
	close(tty);
	return r;
}

int crypt_passphrase_get(const struct crypt_pass_opts *o, char **out, size_t *len, char *err,
			 size_t errlen)
{
	bool found;
	*out = NULL;
	*len = 0;
	if (o->passfile)
		return from_file(o->passfile, out, len, err, errlen);
	if (o->extpass)
		return from_extpass(o->extpass, out, len, err, errlen);
	int r = from_credentials(out, len, &found, err, errlen);
	if (r < 0 || found)
		return r;
	return from_tty(o->twice, !o->no_prompt, out, len, err, errlen);
}

void crypt_passphrase_free(char *pass, size_t len)
{
	if (!pass)
		return;
	OPENSSL_cleanse(pass, len);
	free(pass);
}
