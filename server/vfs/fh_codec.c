/* File handle encoding and authentication (layout in include/fh.h), and the key behind it. */
#include "fh.h"
#include "vfs.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FH_MACPOS 8

static unsigned char mac_key[crypto_shorthash_KEYBYTES];

static int load_key(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		ssize_t n = read(fd, mac_key, sizeof(mac_key));
		close(fd);
		return n == (ssize_t)sizeof(mac_key) ? 0 : -EINVAL;
	}
	if (errno != ENOENT)
		return -errno;
	randombytes_buf(mac_key, sizeof(mac_key));
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	bool ok = write(fd, mac_key, sizeof(mac_key)) == (ssize_t)sizeof(mac_key) && fsync(fd) == 0;
	close(fd);
	/* link() instead of rename(): two servers starting at once agree on one key. */
	if (!ok || link(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		if (ok && e == EEXIST)
			return load_key(path);
		return -(ok ? e : EIO);
	}
	unlink(tmp);
	return 0;
}

int fh_init(const char *state_dir)
{
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return -1;
	}
	char path[PATH_MAX];
	int rc = -ENOENT;
	if (state_dir) {
		mkdir(state_dir, 0700);
		if (snprintf(path, sizeof(path), "%s/handle.key", state_dir) < (int)sizeof(path))
			rc = load_key(path);
	}
	if (rc != 0) {
		randombytes_buf(mac_key, sizeof(mac_key));
		log_warn("no usable state directory (%s): file handles will not survive a "
			 "restart of loopnfsd",
			 state_dir ? strerror(-rc) : "none given");
	}
	return 0;
}

/* SipHash of every byte but the MAC itself. */
static void fh_mac(const uint8_t *h, unsigned len, uint8_t out[8])
{
	uint8_t msg[FH_SIZE_MAX];
	memcpy(msg, h, FH_MACPOS);
	memcpy(msg + FH_MACPOS, h + FH_HDR, len - FH_HDR);
	crypto_shorthash(out, msg, len - (FH_HDR - FH_MACPOS), mac_key);
}

void fh_encode(uint32_t export_id, uint8_t backend, uint8_t type, const void *payload, unsigned len,
	       struct fh_buf *out)
{
	uint8_t *h = out->data;
	if (len > FH_PAYLOAD_MAX)
		len = FH_PAYLOAD_MAX; /* backends never build more; a short handle fails its MAC */
	h[0] = FH_VERSION;
	h[1] = backend;
	h[2] = type;
	h[3] = (uint8_t)len;
	fh_put_be32(h + 4, export_id);
	memcpy(h + FH_HDR, payload, len);
	out->len = FH_HDR + len;
	fh_mac(h, out->len, h + FH_MACPOS);
}

int fh_decode(const void *fh, unsigned len, struct fh_view *out)
{
	const uint8_t *h = fh;
	if (!h || len < FH_HDR || len > FH_SIZE_MAX || h[0] != FH_VERSION || h[3] != len - FH_HDR)
		return -EBADHANDLE;
	uint8_t mac[8];
	fh_mac(h, len, mac);
	if (sodium_memcmp(mac, h + FH_MACPOS, 8) != 0)
		return -EBADHANDLE;
	out->export_id = fh_get_be32(h + 4);
	out->backend = h[1];
	out->type = h[2];
	out->payload = h + FH_HDR;
	out->len = len - FH_HDR;
	return 0;
}
