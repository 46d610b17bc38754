/*
 * The encrypted view's crypto core: gocryptfs's reverse-mode format (as
 * Debian 12's gocryptfs 2.3 writes and reads it), byte for byte, so a
 * stock gocryptfs restores a copy of what loopnfs serves.
 *
 *   config     DIR/.gocryptfs.reverse.conf (JSON), shown as gocryptfs.conf
 *   keys       master key -> HKDF-SHA256 subkeys (AES-256-SIV, EME)
 *   path IVs   SHA-256(cipher-relative path || 0 || purpose)[:16]
 *   names      PKCS#7, EME under the directory IV, unpadded base64url;
 *              longer than 255: gocryptfs.longname.<hash> + a .name file
 *   content    18-byte header (version 2, file ID), 4096-byte blocks as
 *              nonce || SIV tag || ciphertext
 *
 * Cipher-relative paths are written as gocryptfs writes them: no leading
 * slash, components joined by '/', "" for the root.
 *
 * Every function returns 0 (or a length) on success and -errno on failure:
 * -EBADMSG for ciphertext that does not authenticate or decode, -EINVAL for
 * malformed input, -ENAMETOOLONG for names and targets too long for the
 * format. Nothing here keeps state between calls except struct crypt_keys,
 * which is immutable after crypt_keys_new and safe to share across threads.
 */
#ifndef LOOPNFS_CRYPT_H
#define LOOPNFS_CRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define CRYPT_MASTERKEY_LEN 32
#define CRYPT_IV_LEN 16 /* directory IVs, file IDs, block nonces */
#define CRYPT_TAG_LEN 16
#define CRYPT_HEADER_LEN 18 /* version (2 bytes, big-endian) || file ID */
#define CRYPT_HEADER_VERSION 2
#define CRYPT_PLAIN_BS 4096
#define CRYPT_BLOCK_OVERHEAD (CRYPT_IV_LEN + CRYPT_TAG_LEN)
#define CRYPT_CIPHER_BS (CRYPT_PLAIN_BS + CRYPT_BLOCK_OVERHEAD)
#define CRYPT_NAME_MAX 255	   /* plaintext and view names, as ext4 */
#define CRYPT_CNAME_MAX 344	   /* a full encrypted name: base64 of 256 bytes, rounded up */
#define CRYPT_SYMLINK_MAX 4096	   /* longest encrypted target (PATH_MAX), as gocryptfs */
#define CRYPT_PASS_MAX 2048	   /* longest passphrase, as gocryptfs */
#define CRYPT_MASTERKEY_HEX_MAX 80 /* crypt_masterkey_format's output, with NUL */

#define CRYPT_CONF_NAME ".gocryptfs.reverse.conf" /* in the plaintext root */
#define CRYPT_CONF_VIEW_NAME "gocryptfs.conf"	  /* the same file in the view's root */
#define CRYPT_DIRIV_NAME "gocryptfs.diriv"
#define CRYPT_LONGNAME_PREFIX "gocryptfs.longname."
#define CRYPT_LONGNAME_SUFFIX ".name"
/* The systemd credential (LoadCredential=NAME:FILE) every command reads. */
#define CRYPT_CREDENTIAL_NAME "loopnfs-passphrase"

/* ------------------------------------------------------------ keys */

/* The subkeys of one master key and their prepared cipher contexts. */
struct crypt_keys;

int crypt_keys_new(const uint8_t master[CRYPT_MASTERKEY_LEN], struct crypt_keys **out);
/* Wipes every key. NULL is fine. */
void crypt_keys_free(struct crypt_keys *k);

/* ------------------------------------------------------------ config */

struct crypt_scrypt_params {
	uint8_t salt[64];
	size_t saltlen;
	uint64_t n;
	uint32_t r, p, keylen;
};

/* The parsed config file; encrypted_key is the wrapped master key. */
struct crypt_config {
	char creator[64];
	uint8_t encrypted_key[CRYPT_IV_LEN + CRYPT_MASTERKEY_LEN + CRYPT_TAG_LEN];
	struct crypt_scrypt_params scrypt;
};

/*
 * Read and check a config (Version 2, exactly the feature flags
 * implemented: HKDF GCMIV128 DirIV EMENames LongNames Raw64 AESSIV);
 * err names what is wrong.
 */
int crypt_config_load(const char *path, struct crypt_config *cf, char *err, size_t errlen);
/* Unwrap the master key: -EACCES (and err "wrong passphrase") if it does not open. */
int crypt_config_unlock(const struct crypt_config *cf, const char *pass, size_t passlen,
			uint8_t master[CRYPT_MASTERKEY_LEN], char *err, size_t errlen);
/*
 * A new config at path (mode 0400, never replacing an existing file:
 * -EEXIST) with a random master key wrapped under pass; logn 10..28 is
 * scrypt's cost (gocryptfs's default 16). The master key is returned so the
 * caller can show it once.
 */
int crypt_config_create(const char *path, const char *pass, size_t passlen, unsigned logn,
			uint8_t master[CRYPT_MASTERKEY_LEN], char *err, size_t errlen);
/* load + unlock + crypt_keys_new in one: what a command needs to start. */
int crypt_open_config(const char *path, const char *pass, size_t passlen, struct crypt_keys **out,
		      char *err, size_t errlen);
/* gocryptfs's display: 8 hex digits per group, dashes, 4 groups per line. */
void crypt_masterkey_format(const uint8_t master[CRYPT_MASTERKEY_LEN],
			    char out[CRYPT_MASTERKEY_HEX_MAX]);

/* ------------------------------------------------------------ passphrases */

struct crypt_pass_opts {
	const char *passfile; /* --passfile FILE: its first line */
	const char *extpass;  /* --extpass CMD: run by /bin/sh -c, first line of its stdout */
	bool twice;	      /* a terminal prompt asks twice (init) */
	bool no_prompt;	      /* never ask on the terminal (a reload: nobody is there to answer) */
};

/*
 * The passphrase from, in order: --passfile, --extpass,
 * $CREDENTIALS_DIRECTORY/loopnfs-passphrase, a prompt on the controlling
 * terminal without echo. None of them: -ENXIO and err says what to pass.
 * *out is malloc'ed; release it with crypt_passphrase_free.
 */
int crypt_passphrase_get(const struct crypt_pass_opts *o, char **out, size_t *len, char *err,
			 size_t errlen);
void crypt_passphrase_free(char *pass, size_t len);

/* ------------------------------------------------------------ path IVs */

enum crypt_purpose {
	CRYPT_PURPOSE_DIRIV,
	CRYPT_PURPOSE_FILEID,
	CRYPT_PURPOSE_SYMLINKIV,
	CRYPT_PURPOSE_BLOCK0IV,
};

void crypt_path_iv(const char *cpath, enum crypt_purpose purpose, uint8_t iv[CRYPT_IV_LEN]);

/* What encrypting one file needs: its header's ID and block 0's nonce. */
struct crypt_file_ivs {
	uint8_t file_id[CRYPT_IV_LEN];
	uint8_t block0_iv[CRYPT_IV_LEN];
};

void crypt_file_ivs(const char *cpath, struct crypt_file_ivs *ivs);
/*
 * The IVs the view uses for a regular file with attributes st: its cipher
 * path's, as gocryptfs. A file with several names (st_nlink > 1) takes them
 * from its inode number instead: gocryptfs's bytes for it depend on which
 * name its kernel looked up first; here every name shows the same bytes,
 * on every run (an NFS handle names the inode, not a path). They decrypt
 * like any other, the file ID being in the header.
 */
void crypt_file_ivs_of(const char *cpath, const struct stat *st, struct crypt_file_ivs *ivs);
/* "a/b" + "c" -> "a/b/c"; "" + "c" -> "c". malloc'ed, NULL without memory. */
char *crypt_path_join(const char *dir_cpath, const char *cname);

/* ------------------------------------------------------------ names */

/*
 * A plaintext name (1..255 bytes, no '/', not "." or "..") to its full
 * encrypted name (NUL-terminated, at most CRYPT_CNAME_MAX). Returns its length.
 */
ssize_t crypt_name_encrypt(const struct crypt_keys *k, const uint8_t diriv[CRYPT_IV_LEN],
			   const char *plain, size_t plainlen, char out[CRYPT_CNAME_MAX + 1]);
/* The reverse: plain gets the NUL-terminated name, returns its length. */
ssize_t crypt_name_decrypt(const struct crypt_keys *k, const uint8_t diriv[CRYPT_IV_LEN],
			   const char *cname, size_t cnamelen, char plain[CRYPT_NAME_MAX + 1]);
/* gocryptfs.longname.<base64url(sha256(cname))> (62 bytes). */
void crypt_longname_hash(const char *cname, size_t cnamelen, char out[CRYPT_NAME_MAX + 1]);
bool crypt_is_longname(const char *vname);	/* gocryptfs.longname.X */
bool crypt_is_longname_file(const char *vname); /* gocryptfs.longname.X.name */

/* ------------------------------------------------------------ content */

/* Exact view sizes: 0 -> 0, else header + the plaintext + 32 per 4 KiB block. */
uint64_t crypt_cipher_size(uint64_t plain_size);
/* The reverse; -EINVAL for a size no plaintext encrypts to (1..18, a last block <= 32). */
int crypt_plain_size(uint64_t cipher_size, uint64_t *plain_size);

void crypt_header_pack(const uint8_t file_id[CRYPT_IV_LEN], uint8_t out[CRYPT_HEADER_LEN]);
/* -EBADMSG unless version 2 and a file ID that is not all zero. */
int crypt_header_parse(const uint8_t in[CRYPT_HEADER_LEN], uint8_t file_id[CRYPT_IV_LEN]);

/*
 * One block: out = nonce || tag || ciphertext (len + 32 bytes), AD = block
 * number (BE64) || file ID (absent for symlinks and the config's key: NULL).
 */
int crypt_block_encrypt(const struct crypt_keys *k, uint64_t blockno, const uint8_t *file_id,
			const uint8_t nonce[CRYPT_IV_LEN], const uint8_t *plain, size_t len,
			uint8_t *out);
/* The reverse: returns the plaintext length (clen - 32); -EBADMSG if it does not authenticate. */
ssize_t crypt_block_decrypt(const struct crypt_keys *k, uint64_t blockno, const uint8_t *file_id,
			    const uint8_t *cblock, size_t clen, uint8_t *out);

/*
 * The view's bytes [off, off + len) of the plaintext file open as fd, with
 * the IVs of its cipher path: the header part and only the blocks the range
 * covers are read and encrypted. Returns the bytes written to out (fewer
 * at the end of the file, 0 past it); reads that fail return -errno.
 */
ssize_t crypt_read_view(const struct crypt_keys *k, const struct crypt_file_ivs *ivs, int fd,
			uint64_t off, size_t len, uint8_t *out);

/*
 * Restore: the whole ciphertext file open as cfd (a copy of the view)
 * decrypted into pfd from its current offset. -EBADMSG for a block that
 * does not authenticate (*bad_block its number; UINT64_MAX for the header),
 * -EINVAL for a size no plaintext has. Nothing after a bad block is written.
 */
int crypt_decrypt_file(const struct crypt_keys *k, int cfd, int pfd, uint64_t *bad_block);

/* ------------------------------------------------------------ symlinks */

/*
 * A target to its encrypted form (NUL-terminated base64url), the nonce
 * derived from iv_path; -ENAMETOOLONG past 4096. The view's READLINK uses
 * crypt_view_readlink, which knows which path gocryptfs derives it from.
 */
ssize_t crypt_symlink_encrypt(const struct crypt_keys *k, const char *iv_path, const char *target,
			      size_t len, char out[CRYPT_SYMLINK_MAX + 1]);
ssize_t crypt_symlink_decrypt(const struct crypt_keys *k, const char *ctarget, size_t len,
			      char out[CRYPT_SYMLINK_MAX + 1]);

/* ------------------------------------------------------------ the view */

/* What a name in a directory of the view stands for. */
enum crypt_vkind {
	CRYPT_V_REAL,	   /* a plaintext entry: plain_name */
	CRYPT_V_DIRIV,	   /* gocryptfs.diriv: content = the directory IV */
	CRYPT_V_NAME_FILE, /* gocryptfs.longname.X.name: content = the full encrypted name */
	CRYPT_V_CONF,	   /* gocryptfs.conf in the root: the plaintext .gocryptfs.reverse.conf */
};

/* Mode of the virtual files (gocryptfs.diriv, .name), as gocryptfs shows them. */
#define CRYPT_VIRTUAL_MODE 0444

struct crypt_ventry {
	enum crypt_vkind kind;
	char vname[CRYPT_NAME_MAX + 1];	     /* the name in the view */
	char plain_name[CRYPT_NAME_MAX + 1]; /* REAL, NAME_FILE: the plaintext entry */
	uint8_t content[CRYPT_CNAME_MAX];    /* DIRIV, NAME_FILE: the virtual file's bytes */
	size_t content_len;
};

/*
 * One plaintext entry of a directory to its view entry (REAL, or CONF for
 * the root's config). A longname entry also has a .name file in the listing:
 * *name_file is filled and *has_name_file set.
 */
int crypt_view_entry(const struct crypt_keys *k, const uint8_t diriv[CRYPT_IV_LEN], bool root,
		     const char *plain, struct crypt_ventry *e, struct crypt_ventry *name_file,
		     bool *has_name_file);
/* The directory's gocryptfs.diriv entry (the listing always has it). */
void crypt_view_diriv_entry(const char *dir_cpath, struct crypt_ventry *e);

/*
 * LOOKUP: the view name vname in the directory at dir_cpath whose plaintext
 * is open as dirfd. A longname (or its .name file) is found by encrypting
 * the directory's long plaintext names. -ENOENT if nothing has that name.
 */
int crypt_view_lookup(const struct crypt_keys *k, int dirfd, const char *dir_cpath,
		      const char *vname, struct crypt_ventry *e);

/*
 * READDIR: every view entry of the directory at dir_cpath (plaintext open
 * as dirfd; read with a dup, the caller's position is kept), virtual files
 * last as gocryptfs lists them. fn returning non-zero stops the walk and is
 * returned.
 */
typedef int (*crypt_list_fn)(void *arg, const struct crypt_ventry *e);
int crypt_view_list(const struct crypt_keys *k, int dirfd, const char *dir_cpath, crypt_list_fn fn,
		    void *arg);

/*
 * Only the .name files of the directory's listing (one per plaintext name
 * long enough to need a longname), in the listing's order; the other
 * names are not encrypted. fn as for crypt_view_list.
 */
int crypt_view_name_files(const struct crypt_keys *k, int dirfd, const char *dir_cpath,
			  crypt_list_fn fn, void *arg);

/*
 * READLINK: the encrypted target of plaintext symlink plain_name in dirfd,
 * the link being at link_cpath in the view.
 */
ssize_t crypt_view_readlink(const struct crypt_keys *k, int dirfd, const char *plain_name,
			    const char *link_cpath, char out[CRYPT_SYMLINK_MAX + 1]);

/*
 * GETATTR size of a REAL entry from its plaintext stat: regular files the
 * exact cipher size, symlinks the encrypted target's length (read through
 * dirfd), others as they are.
 */
int crypt_view_size(const struct crypt_keys *k, int dirfd, const char *plain_name,
		    const char *cpath, const struct stat *st, uint64_t *size);

/* ------------------------------------------------------------ the forward view */

/*
 * A plaintext view of a ciphertext copy (as gocryptfs -reverse or
 * encrypt-tree wrote it), one object at a time, for loopnfsd --decrypt:
 * cdirfd is a directory of the copy, cfd one of its files.
 */

/* The directory's stored gocryptfs.diriv: -EBADMSG unless a regular file of exactly 16 bytes. */
int crypt_fwd_diriv(int cdirfd, uint8_t iv[CRYPT_IV_LEN]);
/*
 * The full encrypted name of longname hashed (gocryptfs.longname.X) from its
 * X.name file: -EBADMSG if that is empty, longer than any name, or hashes
 * to something else than X.
 */
int crypt_fwd_longname(int cdirfd, const char *hashed, char cname[CRYPT_CNAME_MAX + 1]);

/* One entry of a cipher directory, as crypt_fwd_list sees it. */
struct crypt_fwd_entry {
	const char *cname;		/* its name in the cipher directory */
	char plain[CRYPT_NAME_MAX + 1]; /* its plaintext name; "" when err */
	unsigned char d_type;		/* readdir's DT_*, DT_UNKNOWN where the filesystem says so */
	int err; /* 0, or why it has no name: -EBADMSG (does not decrypt, bad .name), -ENOENT... */
};

/*
 * READDIR: every entry of the cipher directory but its own files
 * (gocryptfs.diriv, .name files, gocryptfs.conf when root), once each, in
 * directory order. An entry whose name does not decrypt comes with err set:
 * skip it and say so, as gocryptfs does. fn returning non-zero stops the
 * walk and is returned; a missing or bad diriv is returned before any entry.
 */
typedef int (*crypt_fwd_list_fn)(void *arg, const struct crypt_fwd_entry *e);
int crypt_fwd_list(const struct crypt_keys *k, int cdirfd, bool root, crypt_fwd_list_fn fn,
		   void *arg);

/*
 * LOOKUP: the cipher directory's entry name for plaintext name plain (its
 * hashed longname if the encrypted name is over 255 bytes), which must
 * exist: -ENOENT, or fstatat's error. _iv with a diriv the caller keeps.
 */
int crypt_fwd_lookup(const struct crypt_keys *k, int cdirfd, const char *plain,
		     char cname[CRYPT_NAME_MAX + 1]);
int crypt_fwd_lookup_iv(const struct crypt_keys *k, int cdirfd, const uint8_t diriv[CRYPT_IV_LEN],
			const char *plain, char cname[CRYPT_NAME_MAX + 1]);

/* READLINK: the plaintext target of symlink cname; -EBADMSG if it does not decrypt. */
ssize_t crypt_fwd_readlink(const struct crypt_keys *k, int cdirfd, const char *cname,
			   char out[CRYPT_SYMLINK_MAX + 1]);

/*
 * A cipher file's header: its file ID, which every block's AD holds (a
 * caller may keep it per open file). -ENODATA for an empty file (no header:
 * the plaintext is empty), -EBADMSG for a short or bad one.
 * GETATTR's size is crypt_plain_size of the cipher file's.
 */
int crypt_fwd_header(int cfd, uint8_t file_id[CRYPT_IV_LEN]);
/*
 * READ: plaintext bytes [off, off + len) of the cipher file, reading and
 * authenticating only the blocks the range covers. Returns the bytes
 * written to out (fewer at the end of the file, 0 past it); -EBADMSG if a
 * covered block does not authenticate (out then holds nothing to use).
 */
ssize_t crypt_fwd_read(const struct crypt_keys *k, int cfd, uint64_t off, size_t len,
		       uint8_t *out);
/* The same with the file ID of crypt_fwd_header. */
ssize_t crypt_fwd_read_id(const struct crypt_keys *k, const uint8_t file_id[CRYPT_IV_LEN], int cfd,
			  uint64_t off, size_t len, uint8_t *out);

/* ------------------------------------------------------------ --exclude */

/*
 * Paths hidden from the view: gocryptfs 2.3's -exclude-wildcard (-ew), as
 * its matcher (go-gitignore) behaves, which is gitignore(5) only in part:
 *   - a pattern matches a path relative to the root ("a/b", no leading
 *     '/'), or any directory above it: everything below a hidden directory
 *     is hidden. The root itself never is;
 *   - without a leading '/' it matches at any depth, even with a '/' inside
 *     ("a/b" hides "x/a/b") unless the pattern has "*." after an inner '/'
 *     ("doc/" then "*.html" is anchored); with one, only from the root;
 *   - '*' any run of characters but '/', "**" across '/' where gitignore
 *     says (leading "**" + '/', trailing '/' + "**", "/" "**" "/");
 *   - '?' is a literal question mark (go-gitignore escapes it), [...] is a
 *     character class and [!...] is not negated ([^...] is);
 *   - a trailing '/' ("build/") hides what is below the directory, never
 *     the directory itself (it stays, empty), files or directories alike;
 *   - '!' re-includes what an earlier pattern hid (later lines win), '#'
 *     starts a comment, spaces around a line are dropped;
 *   - -exclude PATH (exact, from the root) is the line "/" PATH, and
 *     gocryptfs orders all -exclude lines first, then -ew, then
 *     -exclude-from's lines.
 * Where gocryptfs hands a character to Go's regexp engine as an operator
 * ('+', '(', ')', '|', '{', '}', '^', '$' outside [...]), or a line its
 * engine refuses (gocryptfs then drops the line silently), this refuses
 * the line with a message in err: write "\(" for a literal '('.
 * NULL on error (err says which line and why). Matching is thread-safe.
 */
struct crypt_exclude;

struct crypt_exclude *crypt_exclude_new(const char *const *patterns, size_t n, char *err,
					size_t errlen);
void crypt_exclude_free(struct crypt_exclude *x);
/* relpath hidden, itself or through a directory above it. A NULL x hides nothing. */
bool crypt_exclude_match(const struct crypt_exclude *x, const char *relpath);
/*
 * READDIR's test: entry name of the directory at dir_relpath ("" the root),
 * which is itself known to be shown (its ancestors are not tested again).
 */
bool crypt_exclude_match_child(const struct crypt_exclude *x, const char *dir_relpath,
			       const char *name);

#endif
