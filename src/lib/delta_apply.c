/*
 * Host-side patch application: the device applier (otapatch.c) does the
 * decoding; this file gives it the base file (pread at the offsets the
 * patch names), OpenSSL digests of the base (whole, before any write) and
 * of the target (as the bytes go by), and the caller's writer, so that
 * what otatool rebuilds is exactly what a device rebuilds.
 */
#include "otapatch.h"
#include "otatool/delta.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/hex.h"
#include "otatool/output.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (256u << 10)

struct ota_delta_apply {
	struct otap p;
	struct otap_io io;
	int base_fd;
	uint64_t base_size;
	char *base_path;
	char *patch_name;
	EVP_MD_CTX *md;
	struct ota_digest base_digest;
	enum ota_digest_alg alg;
	const struct ota_digest *want_target;
	const uint64_t *want_size;
	ota_delta_write_fn write;
	void *ctx;
	int err; /* a host failure inside a callback: its OTA_E* code */
	int failed;
};

static const EVP_MD *evp_md(enum ota_digest_alg alg)
{
	return alg == OTA_DIGEST_SHA384   ? EVP_sha384()
	       : alg == OTA_DIGEST_SHA512 ? EVP_sha512()
					  : EVP_sha256();
}

static int io_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
	struct ota_delta_apply *a = ctx;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(a->base_fd, buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			a->err = ota_error(
			    OTA_EINPUT, "%s: read error at %llu%s%s",
			    a->base_path, (unsigned long long)(off + done),
			    n < 0 ? ": " : "",
			    n < 0 ? strerror(errno) : " (file shrank)");
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static int io_erase(void *ctx, uint64_t off, uint32_t len)
{
	(void)ctx;
	(void)off;
	(void)len;
	return 0; /* a file needs no erase: bytes are written in order */
}

static int io_write(void *ctx, uint64_t off, const uint8_t *data, size_t len)
{
	struct ota_delta_apply *a = ctx;

	(void)off;
	if (!a->write)
		return 0;
	if ((a->err = a->write(a->ctx, data, len)))
		return -1;
	return 0;
}

static int io_hash(void *ctx, const uint8_t *data, size_t len)
{
	struct ota_delta_apply *a = ctx;

	if (EVP_DigestUpdate(a->md, data, len) != 1) {
		a->err = ota_error(OTA_EINTERNAL, "digest update failed");
		return -1;
	}
	return 0;
}

static int io_header(void *ctx, const struct otap_header *h)
{
	struct ota_delta_apply *a = ctx;

	if (h->base_size != a->base_size) {
		a->err = ota_error(
		    OTA_EVERIFY,
		    "%s: the patch is for a base of %llu bytes, %s has %llu",
		    a->patch_name, (unsigned long long)h->base_size,
		    a->base_path, (unsigned long long)a->base_size);
		return -1;
	}
	if (a->want_size && h->target_size != *a->want_size) {
		a->err = ota_error(
		    OTA_EVERIFY,
		    "%s: the patch builds %llu bytes, the image has %llu",
		    a->patch_name, (unsigned long long)h->target_size,
		    (unsigned long long)*a->want_size);
		return -1;
	}
	return 0;
}

static void hex(char *out, const struct ota_digest *d)
{
	ota_hex_encode(out, d->bytes, d->len);
}

/*
 * The digest of the open base, read through the descriptor the applier
 * then reads from: what was hashed is what the patch is applied to, even
 * if the path is replaced meanwhile.
 */
static int hash_base(struct ota_delta_apply *a)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *buf = malloc(READ_CHUNK);
	uint64_t off = 0;
	unsigned int n = 0;
	int rc = 0;

	if (!md || !buf || EVP_DigestInit_ex(md, evp_md(a->alg), NULL) != 1) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	while (off < a->base_size) {
		size_t want = a->base_size - off < READ_CHUNK
				  ? (size_t)(a->base_size - off)
				  : READ_CHUNK;

		if (io_read(a, off, buf, want)) {
			rc = a->err;
			a->err = 0;
			goto out;
		}
		if (EVP_DigestUpdate(md, buf, want) != 1) {
			rc = ota_error(OTA_EINTERNAL, "digest update failed");
			goto out;
		}
		off += want;
	}
	if (EVP_DigestFinal_ex(md, a->base_digest.bytes, &n) != 1) {
		rc = ota_error(OTA_EINTERNAL, "digest final failed");
		goto out;
	}
	a->base_digest.alg = a->alg;
	a->base_digest.len = n;
out:
	EVP_MD_CTX_free(md);
	free(buf);
	return rc;
}

int ota_delta_apply_new(struct ota_delta_apply **out, const char *base_path,
			const struct ota_delta_apply_opts *opts,
			ota_delta_write_fn write, void *ctx)
{
	struct ota_delta_apply_opts none = { 0 };
	struct ota_delta_apply *a;
	int rc;

	*out = NULL;
	if (!opts)
		opts = &none;
	if (!(a = calloc(1, sizeof(*a))))
		return ota_error(OTA_EINTERNAL, "out of memory");
	a->base_fd = -1;
	a->alg = opts->digest_alg;
	a->want_target = opts->target_digest;
	a->want_size = opts->target_size;
	a->write = write;
	a->ctx = ctx;
	a->base_path = strdup(base_path);
	a->patch_name = strdup(opts->patch_name ? opts->patch_name : "patch");
	if (!a->base_path || !a->patch_name || !(a->md = EVP_MD_CTX_new()) ||
	    EVP_DigestInit_ex(a->md, evp_md(a->alg), NULL) != 1) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto fail;
	}
	if ((rc = ota_file_open_regular(&a->base_fd, &a->base_size, base_path)))
		goto fail;
	/* The whole base is checked before the patch can write anything. */
	if ((rc = hash_base(a)))
		goto fail;
	if (opts->base_digest &&
	    (opts->base_digest->len != a->base_digest.len ||
	     memcmp(opts->base_digest->bytes, a->base_digest.bytes,
		    a->base_digest.len) != 0)) {
		char want[2 * OTA_DIGEST_MAX + 1], got[2 * OTA_DIGEST_MAX + 1];

		hex(want, opts->base_digest);
		hex(got, &a->base_digest);
		rc = ota_error(OTA_EVERIFY,
			       "%s: not the base %s was made for: %s %s "
			       "expected, %s found",
			       base_path, a->patch_name,
			       ota_digest_alg_name(a->alg), want, got);
		goto fail;
	}
	a->io.ctx = a;
	a->io.read_base = io_read;
	a->io.erase = io_erase;
	a->io.write = io_write;
	a->io.hash = io_hash;
	a->io.header = io_header;
	otap_init(&a->p, &a->io);
	*out = a;
	return 0;
fail:
	ota_delta_apply_free(a);
	return rc;
}

/* The applier's refusal as an OTA_E* code with the patch offset. */
static int refusal(struct ota_delta_apply *a)
{
	a->failed = 1;
	if (a->err)
		return a->err; /* a callback's own error, already recorded */
	return ota_error(OTA_EVERIFY, "%s: byte %llu: %s (%s)", a->patch_name,
			 (unsigned long long)a->p.err_offset, a->p.err_what,
			 otap_status_name(a->p.status));
}

int ota_delta_apply_feed(struct ota_delta_apply *a, const uint8_t *data,
			 size_t len)
{
	if (a->failed)
		return refusal(a);
	if (otap_feed(&a->p, data, len) != OTAP_OK)
		return refusal(a);
	return 0;
}

int ota_delta_apply_finish(struct ota_delta_apply *a,
			   struct ota_delta_result *res)
{
	struct ota_delta_result r;
	unsigned int n = 0;

	if (a->failed || otap_finish(&a->p) != OTAP_OK)
		return refusal(a);
	memset(&r, 0, sizeof(r));
	r.base_size = a->p.hdr.base_size;
	r.target_size = a->p.hdr.target_size;
	r.block_size = a->p.hdr.block_size;
	r.blocks = a->p.hdr.blocks;
	r.dict_size = a->p.hdr.dict_size;
	r.lc = a->p.hdr.lc;
	r.lp = a->p.hdr.lp;
	r.pb = a->p.hdr.pb;
	r.base_digest = a->base_digest;
	r.target_digest.alg = a->alg;
	if (EVP_DigestFinal_ex(a->md, r.target_digest.bytes, &n) != 1)
		return ota_error(OTA_EINTERNAL, "digest final failed");
	r.target_digest.len = n;
	a->failed = 1; /* the digest context is spent */
	if (a->want_target &&
	    (a->want_target->len != n ||
	     memcmp(a->want_target->bytes, r.target_digest.bytes, n) != 0)) {
		char want[2 * OTA_DIGEST_MAX + 1], got[2 * OTA_DIGEST_MAX + 1];

		hex(want, a->want_target);
		hex(got, &r.target_digest);
		a->err = ota_error(OTA_EVERIFY,
				   "%s: the rebuilt image does not match: %s "
				   "%s expected, %s found",
				   a->patch_name, ota_digest_alg_name(a->alg),
				   want, got);
		return a->err;
	}
	if (res)
		*res = r;
	return 0;
}

void ota_delta_apply_free(struct ota_delta_apply *a)
{
	if (!a)
		return;
	if (a->base_fd >= 0)
		close(a->base_fd);
	EVP_MD_CTX_free(a->md);
	free(a->base_path);
	free(a->patch_name);
	free(a);
}

static int write_output(void *ctx, const uint8_t *data, size_t len)
{
	return ota_output_write(ctx, data, len);
}

int ota_delta_apply_file(const char *base_path, const char *patch_path,
			 const char *target_path,
			 const struct ota_delta_apply_opts *opts,
			 struct ota_delta_result *res)
{
	struct ota_delta_apply_opts o = { 0 };
	struct ota_delta_apply *a = NULL;
	struct ota_output *out = NULL;
	uint8_t *buf = NULL;
	uint64_t size = 0;
	int fd = -1, rc;

	if (opts)
		o = *opts;
	if (!o.patch_name)
		o.patch_name = patch_path;
	if ((rc = ota_file_open_regular(&fd, &size, patch_path)))
		return rc;
	if (!(buf = malloc(READ_CHUNK))) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	if (target_path && (rc = ota_output_open(&out, target_path, 0644, 0)))
		goto out;
	if ((rc = ota_delta_apply_new(&a, base_path, &o,
				      out ? write_output : NULL, out)))
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ota_error(OTA_EINPUT, "%s: read error: %s",
				       patch_path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((rc = ota_delta_apply_feed(a, buf, (size_t)n)))
			goto out;
	}
	if ((rc = ota_delta_apply_finish(a, res)))
		goto out;
	if (out) {
		rc = ota_output_commit(out);
		out = NULL;
	}
out:
	ota_output_abort(out);
	ota_delta_apply_free(a);
	free(buf);
	close(fd);
	return rc;
}
