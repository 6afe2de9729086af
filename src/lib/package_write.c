/*
 * The package writer: images streamed into place first (hashed while they
 * are copied or compressed), then the protected region, the signatures
 * over it, and the header written in front. One read of every image.
 */
#include "hasher.h"
#include "key_priv.h"
#include "otapkg.h"
#include "otatool/cipher.h"
#include "otatool/delta.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/ihex.h"
#include "otatool/output.h"
#include "otatool/package.h"
#include "otatool/signer.h"
#include "otatool/timestamp.h"
#include "package_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define COPY_BUF (256u << 10)

struct layout {
	uint32_t P, S, A;
	uint64_t first, total;
	uint64_t offset[OTAPKG_MAX_IMAGES];
	uint64_t stored[OTAPKG_MAX_IMAGES];
	struct ota_digest stored_digest[OTAPKG_MAX_IMAGES];
	bool compressed[OTAPKG_MAX_IMAGES];
	bool patched[OTAPKG_MAX_IMAGES];
	uint64_t base_size[OTAPKG_MAX_IMAGES];
	struct ota_digest base_digest[OTAPKG_MAX_IMAGES];
	FILE *tmp[OTAPKG_MAX_IMAGES]; /* compressed or patch bytes */
	enum ota_digest_alg region_alg;
	int64_t signing_time;
	size_t n_certs_digests; /* key id + SHA-256 of the certificates area */
	uint8_t certs_digests[OTAPKG_MAX_SIGS][64];
	/* encrypted: each image's cipher, and its key wrapped per recipient */
	struct ota_package_crypt *crypt;
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The longest signature a key can make: room reserved before signing. */
static size_t max_sig_len(const struct ota_key *k)
{
	switch (ota_key_alg(k)) {
	case OTA_SIG_ECDSA_P256_SHA256:
		return 72;
	case OTA_SIG_ECDSA_P384_SHA384:
		return 104;
	case OTA_SIG_ED25519:
		return 64;
	default:
		return (size_t)EVP_PKEY_get_size(ota_key_pkey(k));
	}
}

/* Appends one TLV at *pos (when buf is not NULL); returns its size. */
static size_t tlv(uint8_t *buf, size_t pos, uint16_t type, const void *v1,
		  size_t l1, const void *v2, size_t l2)
{
	size_t len = l1 + l2;

	if (buf) {
		put16(buf + pos, type);
		put16(buf + pos + 2, (uint16_t)len);
		if (l1)
			memcpy(buf + pos + 4, v1, l1);
		if (l2)
			memcpy(buf + pos + 4 + l1, v2, l2);
		memset(buf + pos + 4 + len, 0, pad4(len) - len);
	}
	return 4 + pad4(len);
}

static int hex_to_bytes(uint8_t *out, const char *hex, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/*
 * The protected region; with buf NULL it only measures (the digests do not
 * change any length). Values were validated when the manifest was loaded;
 * what is left to check is what the binary form cannot express.
 */
static int build_region(uint8_t *buf, size_t *size,
			const struct ota_manifest *m, const struct layout *L)
{
	char version[2 * OTA_SEMVER_MAX + 3];
	uint8_t v[OTAPKG_MAX_TLV_VALUE], commit[32];
	size_t pos = 0;
	int64_t t;
	int rc;

	pos +=
	    tlv(buf, pos, OTAPKG_TLV_NAME, m->name, strlen(m->name), NULL, 0);
	if ((rc = ota_semver_format(version, sizeof(version), &m->version)))
		return rc;
	if (strlen(version) > 255)
		return ota_error(OTA_EINPUT,
				 "version %s is longer than the package's 255 "
				 "bytes",
				 version);
	pos += tlv(buf, pos, OTAPKG_TLV_VERSION, version, strlen(version), NULL,
		   0);
	put32(v, m->security_counter);
	pos += tlv(buf, pos, OTAPKG_TLV_SECURITY_COUNTER, v, 4, NULL, 0);
	if (m->has_bootloader_min) {
		const struct ota_semver *b = &m->bootloader_min;

		if (b->major > UINT32_MAX || b->minor > UINT32_MAX ||
		    b->patch > UINT32_MAX || b->pre[0])
			return ota_error(OTA_EINPUT,
					 "bootloader_min: a device compares "
					 "three 32-bit numbers; a pre-release "
					 "or a larger number cannot be "
					 "expressed");
		put32(v, (uint32_t)b->major);
		put32(v + 4, (uint32_t)b->minor);
		put32(v + 8, (uint32_t)b->patch);
		pos += tlv(buf, pos, OTAPKG_TLV_BOOTLOADER_MIN, v, 12, NULL, 0);
	}
	for (size_t i = 0; i < m->n_hardware; i++)
		pos += tlv(buf, pos, OTAPKG_TLV_HARDWARE, m->hardware[i],
			   strlen(m->hardware[i]), NULL, 0);
	if (m->has_git) {
		size_t n = strlen(m->git.commit) / 2;

		if (hex_to_bytes(commit, m->git.commit, n))
			return ota_error(OTA_EINPUT, "git commit is not hex");
		pos += tlv(buf, pos, OTAPKG_TLV_GIT_COMMIT, commit, n, NULL, 0);
	}
	if (m->build_time) {
		if ((rc = ota_timestamp_parse(&t, m->build_time)))
			return rc;
		put64(v, (uint64_t)t);
		pos += tlv(buf, pos, OTAPKG_TLV_BUILD_TIME, v, 8, NULL, 0);
	}
	for (size_t i = 0; i < m->n_dependencies; i++) {
		const struct ota_dependency *d = &m->dependencies[i];
		size_t nl = strlen(d->name), rl = strlen(d->range);

		if (rl > 255)
			return ota_error(OTA_EINPUT,
					 "dependency %s: range longer than 255 "
					 "bytes",
					 d->name);
		v[0] = (uint8_t)nl;
		memcpy(v + 1, d->name, nl);
		pos += tlv(buf, pos, OTAPKG_TLV_DEPENDENCY, v, 1 + nl, d->range,
			   rl);
	}
	put64(v, (uint64_t)L->signing_time);
	pos += tlv(buf, pos, OTAPKG_TLV_SIGNING_TIME, v, 8, NULL, 0);
	for (size_t i = 0; i < L->n_certs_digests; i++)
		pos += tlv(buf, pos, OTAPKG_TLV_CERTS_DIGEST,
			   L->certs_digests[i], 64, NULL, 0);
	for (size_t i = 0; i < m->n_images; i++) {
		const struct ota_image *img = &m->images[i];
		size_t dl = ota_digest_alg_size(m->digest_alg);
		size_t nl = strlen(img->name);
		uint8_t kind = ota_package_kind_code(img->kind);
		size_t kl = kind == OTAPKG_KIND_CUSTOM ? strlen(img->kind) : 0;

		memset(v, 0, OTAPKG_IMAGE_FIXED + 2 * dl);
		v[0] = kind;
		v[1] = L->patched[i]      ? OTAPKG_COMP_PATCH
		       : L->compressed[i] ? OTAPKG_COMP_ZLIB
					  : OTAPKG_COMP_NONE;
		v[2] = ota_package_digest_code(m->digest_alg);
		v[3] = img->has_load_address ? OTAPKG_IMAGE_LOAD : 0;
		if (L->crypt)
			v[3] |= OTAPKG_IMAGE_ENCRYPTED;
		v[4] = (uint8_t)nl;
		v[5] = (uint8_t)kl;
		put64(v + 8, L->offset[i]);
		put64(v + 16, L->stored[i]);
		put64(v + 24, img->size);
		put64(v + 32, img->load_address);
		if (buf) {
			memcpy(v + 40, img->digest.bytes, dl);
			memcpy(v + 40 + dl, L->stored_digest[i].bytes, dl);
		}
		memcpy(v + 40 + 2 * dl, img->name, nl);
		pos += tlv(buf, pos, OTAPKG_TLV_IMAGE, v, 40 + 2 * dl + nl,
			   img->kind, kl);
	}
	/* Each patch's base, in image order: IMAGE_BASE follows IMAGE. */
	for (size_t i = 0; i < m->n_images; i++) {
		size_t dl = ota_digest_alg_size(m->digest_alg);

		if (!L->patched[i])
			continue;
		memset(v, 0, OTAPKG_IMAGE_BASE_FIXED + dl);
		v[0] = (uint8_t)i;
		put64(v + 4, L->base_size[i]);
		memcpy(v + OTAPKG_IMAGE_BASE_FIXED, L->base_digest[i].bytes,
		       dl);
		pos += tlv(buf, pos, OTAPKG_TLV_IMAGE_BASE, v,
			   OTAPKG_IMAGE_BASE_FIXED + dl, NULL, 0);
	}
	/* Each encrypted image's keys, in image order: IMAGE_KEY follows. */
	for (size_t i = 0; L->crypt && i < m->n_images; i++)
		for (size_t k = 0; k < ota_package_crypt_recipients(L->crypt);
		     k++) {
			size_t len =
			    ota_package_crypt_image_key(v, L->crypt, i, k);

			pos += tlv(buf, pos, OTAPKG_TLV_IMAGE_KEY, v, len, NULL,
				   0);
		}
	if (pos > OTAPKG_MAX_PROTECTED)
		return ota_error(OTA_EINPUT,
				 "the manifest needs %zu bytes of protected "
				 "region, more than the format's %u",
				 pos, OTAPKG_MAX_PROTECTED);
	*size = pos;
	return 0;
}

static bool wants_compression(const struct ota_package_opts *o,
			      const char *name)
{
	if (o->compress_all)
		return true;
	for (size_t i = 0; i < o->n_compress; i++)
		if (strcmp(o->compress[i], name) == 0)
			return true;
	return false;
}

/*
 * Compresses an image into a temporary file, hashing the input (what is
 * flashed) and the output (what is stored) on the way.
 */
static int compress_image(struct layout *L, size_t i, struct ota_image *img,
			  enum ota_digest_alg alg, int level)
{
	const EVP_MD *md = ota_digest_md(alg);
	EVP_MD_CTX *in_md = EVP_MD_CTX_new(), *out_md = EVP_MD_CTX_new();
	uint8_t *in = malloc(COPY_BUF), *out = malloc(COPY_BUF);
	struct ota_digest flashed = { .alg = alg };
	uint64_t total_in = 0, total_out = 0, fsize = 0;
	z_stream zs = { 0 };
	unsigned int n;
	int fd = -1, rc, zrc, z_ready = 0;

	L->tmp[i] = tmpfile();
	if (!in || !out || !in_md || !out_md || !L->tmp[i] ||
	    !EVP_DigestInit_ex(in_md, md, NULL) ||
	    !EVP_DigestInit_ex(out_md, md, NULL) ||
	    deflateInit(&zs, level) != Z_OK) {
		rc = ota_error(OTA_EINTERNAL, "cannot set up compression");
		goto out;
	}
	z_ready = 1;
	if ((rc = ota_file_open_regular(&fd, &fsize, img->path)))
		goto out;
	for (int flush = Z_NO_FLUSH; flush != Z_FINISH;) {
		ssize_t got = read(fd, in, COPY_BUF);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = ota_error(OTA_EINPUT, "%s: read error: %s",
				       img->path, strerror(errno));
			goto out;
		}
		flush = got == 0 ? Z_FINISH : Z_NO_FLUSH;
		EVP_DigestUpdate(in_md, in, (size_t)got);
		total_in += (uint64_t)got;
		zs.next_in = in;
		zs.avail_in = (uInt)got;
		do {
			zs.next_out = out;
			zs.avail_out = COPY_BUF;
			zrc = deflate(&zs, flush);
			size_t have = COPY_BUF - zs.avail_out;

			if (zrc == Z_STREAM_ERROR ||
			    fwrite(out, 1, have, L->tmp[i]) != have) {
				rc = ota_error(OTA_EOUTPUT,
					       "compressing %s failed",
					       img->path);
				goto out;
			}
			EVP_DigestUpdate(out_md, out, have);
			total_out += have;
		} while (zs.avail_out == 0);
	}
	EVP_DigestFinal_ex(in_md, flashed.bytes, &n);
	flashed.len = n;
	EVP_DigestFinal_ex(out_md, L->stored_digest[i].bytes, &n);
	L->stored_digest[i].len = n;
	L->stored_digest[i].alg = alg;
	if (img->digest.len &&
	    (total_in != img->size ||
	     memcmp(flashed.bytes, img->digest.bytes, flashed.len) != 0)) {
		rc = ota_error(OTA_EVERIFY,
			       "image \"%s\" (%s): the file no longer matches "
			       "the manifest's digest",
			       img->name, img->path);
		goto out;
	}
	img->digest = flashed;
	img->size = total_in;
	L->stored[i] = total_out;
	L->compressed[i] = true;
	rc =
	    fflush(L->tmp[i]) == 0
		? 0
		: ota_error(OTA_EOUTPUT, "temporary file: %s", strerror(errno));
out:
	if (z_ready)
		deflateEnd(&zs);
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(in_md);
	EVP_MD_CTX_free(out_md);
	free(in);
	free(out);
	return rc;
}

/*
 * Copies an uncompressed image into place, hashing it; the digest must be
 * the manifest's, or becomes it when the manifest has none yet.
 */
/*
 * Copies an uncompressed image into place, hashing it; the digest must be
 * the manifest's, or becomes it when the manifest has none yet. Hashing
 * runs on a worker thread while this one writes the buffer it hashes and
 * reads the next into the other half of buf (2 * COPY_BUF bytes).
 */
static int copy_image(struct ota_output *o, struct layout *L, size_t i,
		      struct ota_image *img, enum ota_digest_alg alg,
		      uint8_t *buf, const struct ota_package_opts *opts)
{
	const EVP_MD *md = ota_digest_md(alg);
	uint8_t *ebuf = buf + 2 * COPY_BUF; /* encrypted: the cipher text */
	struct ota_hasher *h = NULL;
	struct ota_digest d = { .alg = alg };
	uint64_t done = 0, fsize = 0;
	unsigned int n = 0, half = 0;
	int fd, rc;

	if ((rc = ota_file_open_regular(&fd, &fsize, img->path)))
		return rc;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if ((rc = ota_hasher_start(&h, md)))
		goto out;
	for (;; half ^= 1) {
		uint8_t *b = buf + (size_t)half * COPY_BUF;
		ssize_t got = read(fd, b, COPY_BUF);

		if (got < 0 && errno == EINTR) {
			half ^= 1; /* same half again */
			continue;
		}
		if (got < 0) {
			rc = ota_error(OTA_EINPUT, "%s: read error: %s",
				       img->path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if (done + (uint64_t)got > L->stored[i]) {
			rc = ota_error(OTA_EVERIFY,
				       "image \"%s\" (%s): larger than the "
				       "manifest says; the file changed",
				       img->name, img->path);
			goto out;
		}
		ota_hasher_feed(h, b, (size_t)got);
		/* The hasher reads b meanwhile: the cipher text goes apart. */
		if (L->crypt && (rc = ota_package_crypt_update(
				     L->crypt, i, ebuf, b, (size_t)got)))
			goto out;
		if ((rc = ota_output_pwrite(o, L->crypt ? ebuf : b, (size_t)got,
					    L->offset[i] + done)))
			goto out;
		done += (uint64_t)got;
		if (opts->progress)
			opts->progress(opts->progress_ctx, done, L->stored[i]);
	}
	rc = ota_hasher_finish(h, d.bytes, &n);
	h = NULL;
	if (rc)
		goto out;
	d.len = n;
	if (done != L->stored[i] ||
	    (img->digest.len &&
	     memcmp(d.bytes, img->digest.bytes, d.len) != 0)) {
		rc = ota_error(OTA_EVERIFY,
			       "image \"%s\" (%s): the file no longer matches "
			       "the manifest's %s",
			       img->name, img->path,
			       done != L->stored[i] ? "size" : "digest");
		goto out;
	}
	img->digest = d;
	L->stored_digest[i] = d;
	rc = L->crypt
		 ? ota_package_crypt_final(L->crypt, i, &L->stored_digest[i])
		 : 0;
out:
	ota_hasher_abort(h);
	close(fd);
	return rc;
}

/* A patch on its way to a temporary file, hashed as it is written. */
struct patch_sink {
	FILE *f;
	EVP_MD_CTX *md;
	uint64_t n;
};

static int patch_write(void *ctx, const uint8_t *data, size_t len)
{
	struct patch_sink *s = ctx;

	if (fwrite(data, 1, len, s->f) != len ||
	    EVP_DigestUpdate(s->md, data, len) != 1)
		return ota_error(OTA_EOUTPUT, "temporary file: %s",
				 strerror(errno));
	s->n += len;
	return 0;
}

/*
 * Applies the patch in s->f to the base with the device code, as a device
 * will: what is stored is known to rebuild the image. The image's digest
 * must come out (a signed manifest's), or becomes the rebuilt one (a
 * release file's, which is hashed here).
 */
static int check_patch(struct layout *L, size_t i, struct ota_image *img,
		       enum ota_digest_alg alg, const char *base_path,
		       struct patch_sink *s)
{
	char name[96];
	struct ota_delta_apply_opts ao = { .digest_alg = alg,
					   .patch_name = name,
					   .target_size = &img->size };
	struct ota_delta_apply *a = NULL;
	struct ota_delta_result res;
	uint8_t *buf = malloc(COPY_BUF);
	size_t got;
	int rc;

	snprintf(name, sizeof(name), "the patch of image \"%s\"", img->name);
	if (img->digest.len)
		ao.target_digest = &img->digest;
	if (!buf) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	if (fflush(s->f) != 0) {
		rc = ota_error(OTA_EOUTPUT, "temporary file: %s",
			       strerror(errno));
		goto out;
	}
	rewind(s->f);
	if ((rc = ota_delta_apply_new(&a, base_path, &ao, NULL, NULL)))
		goto out;
	while ((got = fread(buf, 1, COPY_BUF, s->f)) > 0)
		if ((rc = ota_delta_apply_feed(a, buf, got)))
			goto out;
	if ((rc = ota_delta_apply_finish(a, &res)))
		goto out;
	if (!img->digest.len)
		img->digest = res.target_digest;
	L->base_size[i] = res.base_size;
	L->base_digest[i] = res.base_digest;
out:
	ota_delta_apply_free(a);
	free(buf);
	return rc;
}

/*
 * With a base of the image's name: encodes the patch against it and keeps
 * it when it is smaller than what the image takes otherwise (L->stored[i]
 * as it stands: its size, or its zlib size).
 */
static int try_patch(struct layout *L, size_t i, struct ota_image *img,
		     enum ota_digest_alg alg, const char *base_path,
		     uint64_t *patch_size)
{
	struct ota_delta_params params;
	struct patch_sink s = { 0 };
	unsigned int n;
	int rc;

	ota_delta_params_default(&params);
	s.f = tmpfile();
	s.md = EVP_MD_CTX_new();
	if (!s.f || !s.md ||
	    !EVP_DigestInit_ex(s.md, ota_digest_md(alg), NULL)) {
		rc = ota_error(OTA_EINTERNAL, "cannot set up a patch");
		goto out;
	}
	if ((rc = ota_delta_encode(&params, base_path, img->path, patch_write,
				   &s, NULL))) {
		rc = ota_error_wrap(rc, "image \"%s\": patch against %s",
				    img->name, base_path);
		goto out;
	}
	*patch_size = s.n;
	if (s.n >= L->stored[i])
		goto out; /* stored as it would be without a base */
	if ((rc = check_patch(L, i, img, alg, base_path, &s)))
		goto out;
	L->stored_digest[i].alg = alg;
	EVP_DigestFinal_ex(s.md, L->stored_digest[i].bytes, &n);
	L->stored_digest[i].len = n;
	L->stored[i] = s.n;
	if (L->tmp[i])
		fclose(L->tmp[i]); /* the zlib bytes are not needed */
	L->tmp[i] = s.f;
	s.f = NULL;
	L->compressed[i] = false;
	L->patched[i] = true;
out:
	if (s.f)
		fclose(s.f);
	EVP_MD_CTX_free(s.md);
	return rc;
}

static int copy_tmp(struct ota_output *o, struct layout *L, size_t i,
		    uint8_t *buf)
{
	uint64_t done = 0;
	size_t got;

	rewind(L->tmp[i]);
	while ((got = fread(buf, 1, COPY_BUF, L->tmp[i])) > 0) {
		int rc = L->crypt ? ota_package_crypt_update(L->crypt, i, buf,
							     buf, got)
				  : 0;

		if (rc ||
		    (rc = ota_output_pwrite(o, buf, got, L->offset[i] + done)))
			return rc;
		done += got;
	}
	if (done != L->stored[i])
		return ota_error(OTA_EOUTPUT, "temporary file read back short");
	/* Encrypted: the stored digest is the cipher text's. */
	return L->crypt
		   ? ota_package_crypt_final(L->crypt, i, &L->stored_digest[i])
		   : 0;
}

static int check_opts(const struct ota_manifest *m,
		      const struct ota_package_opts *o, size_t n_signers)
{
	if (o->alignment < OTAPKG_MIN_ALIGN ||
	    o->alignment > OTAPKG_MAX_ALIGN ||
	    (o->alignment & (o->alignment - 1)))
		return ota_error(OTA_EUSAGE,
				 "alignment %u is not a power of two from %u "
				 "to %u",
				 o->alignment, OTAPKG_MIN_ALIGN,
				 OTAPKG_MAX_ALIGN);
	if (n_signers == 0 || n_signers > OTAPKG_MAX_SIGS)
		return ota_error(OTA_EUSAGE,
				 "a package needs 1 to %u signing keys",
				 OTAPKG_MAX_SIGS);
	if (m->n_images > OTAPKG_MAX_IMAGES)
		return ota_error(OTA_EINPUT, "more than %u images",
				 OTAPKG_MAX_IMAGES);
	for (size_t c = 0; c < o->n_compress; c++) {
		size_t i;

		for (i = 0; i < m->n_images; i++)
			if (strcmp(m->images[i].name, o->compress[c]) == 0)
				break;
		if (i == m->n_images)
			return ota_error(
			    OTA_EUSAGE,
			    "--compress-image %s: no image of that "
			    "name",
			    o->compress[c]);
	}
	return 0;
}

/*
 * Binds a signer's certificates into the signed region: the SHA-256 of its
 * certificates area exactly as build_sigblock lays it out.
 */
/* A signer as the signature block lays it out: key and certificates. */
struct pkg_signer {
	struct ota_key *key;
	size_t n_certs; /* DER, signer first */
	const uint8_t *const *certs;
	const size_t *cert_lens;
};

static int certs_digest(uint8_t out[64], const struct pkg_signer *s)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	static const uint8_t zeros[4] = { 0 };
	unsigned int n;
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);

	for (size_t c = 0; ok && c < s->n_certs; c++) {
		uint8_t len[4];

		put32(len, (uint32_t)s->cert_lens[c]);
		ok = EVP_DigestUpdate(ctx, len, 4) &&
		     EVP_DigestUpdate(ctx, s->certs[c], s->cert_lens[c]) &&
		     EVP_DigestUpdate(ctx, zeros,
				      pad4(s->cert_lens[c]) - s->cert_lens[c]);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, out + 32, &n);
	EVP_MD_CTX_free(ctx);
	if (!ok || hex_to_bytes(out, ota_key_id(s->key), 32))
		return ota_error(OTA_EINTERNAL, "hashing certificates failed");
	return 0;
}

static size_t sig_entry_room(const struct pkg_signer *s)
{
	size_t certs = 0;

	for (size_t c = 0; c < s->n_certs; c++)
		certs += 4 + pad4(s->cert_lens[c]);
	return OTAPKG_SIG_FIXED + pad4(max_sig_len(s->key)) + certs;
}

/* Signs H and lays out the signature block, zero-padded to L->S. */
static int build_sigblock(uint8_t *blk, const struct layout *L,
			  const struct ota_digest *H,
			  const struct pkg_signer *signers, size_t n_signers)
{
	size_t pos = 4;

	memset(blk, 0, L->S);
	put16(blk, (uint16_t)n_signers);
	for (size_t k = 0; k < n_signers; k++) {
		const struct pkg_signer *s = &signers[k];
		uint8_t *sig = NULL, keyid[32];
		size_t siglen = 0, certs = 0;
		int rc;

		if ((rc = ota_key_sign_digest(&sig, &siglen, s->key, H)))
			return rc;
		if (siglen > max_sig_len(s->key)) {
			free(sig);
			return ota_error(OTA_EINTERNAL,
					 "signature longer than reserved");
		}
		for (size_t c = 0; c < s->n_certs; c++)
			certs += 4 + pad4(s->cert_lens[c]);
		hex_to_bytes(keyid, ota_key_id(s->key), 32);
		put16(blk + pos, ota_package_sig_code(ota_key_alg(s->key)));
		put16(blk + pos + 2, (uint16_t)siglen);
		put32(blk + pos + 4, (uint32_t)certs);
		memcpy(blk + pos + 8, keyid, 32);
		memcpy(blk + pos + OTAPKG_SIG_FIXED, sig, siglen);
		free(sig);
		pos += OTAPKG_SIG_FIXED + pad4(siglen);
		for (size_t c = 0; c < s->n_certs; c++) {
			put32(blk + pos, (uint32_t)s->cert_lens[c]);
			memcpy(blk + pos + 4, s->certs[c], s->cert_lens[c]);
			pos += 4 + pad4(s->cert_lens[c]);
		}
	}
	return 0;
}

int ota_package_write(const char *out_path, struct ota_manifest *m,
		      const struct ota_signers *sset,
		      const struct ota_package_opts *opts)
{
	struct pkg_signer signers[OTA_PACKAGE_MAX_SIGNERS];
	size_t n_signers = ota_signers_count(sset);
	struct ota_package_opts o = *opts;
	struct ota_output *out = NULL;
	struct layout L = { 0 };
	uint8_t header[OTAPKG_HEADER_SIZE] = { 0 };
	uint8_t *buf = NULL, *region = NULL, *blk = NULL;
	struct ota_digest H;
	EVP_MD_CTX *ctx = NULL;
	size_t P = 0, S = 4;
	unsigned int n;
	int rc;

	if (!o.alignment)
		o.alignment = OTA_PACKAGE_DEFAULT_ALIGN;
	if (!o.zlib_level)
		o.zlib_level = 9;
	if ((rc = check_opts(m, &o, n_signers)))
		return rc;
	if (o.summary)
		memset(o.summary, 0, sizeof(*o.summary));
	for (size_t k = 0; k < n_signers; k++) {
		signers[k].key = ota_signers_key(sset, k);
		signers[k].n_certs = ota_key_certs(
		    signers[k].key, &signers[k].certs, &signers[k].cert_lens);
	}
	L.A = o.alignment;
	L.region_alg = OTA_DIGEST_SHA256;
	for (size_t k = 0; k < n_signers; k++) {
		if (ota_key_alg(signers[k].key) == OTA_SIG_ECDSA_P384_SHA384)
			L.region_alg = OTA_DIGEST_SHA384;
		S += sig_entry_room(&signers[k]);
	}
	/*
	 * When it was signed: certificate chains are checked at this time.
	 * SOURCE_DATE_EPOCH, when set, as for the build time, so that a
	 * rebuild signs the same bytes.
	 */
	if ((rc = ota_timestamp_build(&L.signing_time)))
		return rc;
	for (size_t k = 0; k < n_signers; k++)
		if (signers[k].n_certs &&
		    (rc = certs_digest(L.certs_digests[L.n_certs_digests++],
				       &signers[k])))
			return rc;
	if (S > OTAPKG_MAX_SIGBLOCK)
		return ota_error(OTA_EINPUT,
				 "signatures and certificates need %zu bytes, "
				 "more than the format's %u",
				 S, OTAPKG_MAX_SIGBLOCK);
	L.S = (uint32_t)S;

	/* Images are stored as they are: HEX text would reach the flash. */
	for (size_t i = 0; i < m->n_images; i++) {
		bool hex;

		if ((rc = ota_ihex_sniff(&hex, m->images[i].path)))
			return rc;
		if (hex)
			return ota_error(OTA_EINPUT,
					 "image \"%s\": %s is Intel HEX text, "
					 "not a raw image: convert it "
					 "(objcopy -I ihex -O binary "
					 "--gap-fill 0xff) or package it with "
					 "--format mcuboot, which reads HEX",
					 m->images[i].name, m->images[i].path);
	}
	/* Compressed sizes are known only after compressing. */
	for (size_t i = 0; i < m->n_images; i++) {
		struct ota_image *img = &m->images[i];
		uint64_t patch_size = 0;
		char base[4096];

		if (img->size == 0)
			return ota_error(OTA_EINPUT,
					 "image \"%s\" is empty: a package "
					 "image has at least one byte",
					 img->name);
		L.stored[i] = img->size;
		if (wants_compression(&o, img->name) &&
		    (rc = compress_image(&L, i, img, m->digest_alg,
					 o.zlib_level)))
			goto out;
		if (o.delta_from &&
		    ota_package_bases_find(o.delta_from, img->name, base,
					   sizeof(base)) == 0) {
			uint64_t full = L.stored[i];

			if ((rc = try_patch(&L, i, img, m->digest_alg, base,
					    &patch_size)))
				goto out;
			if (o.summary) {
				o.summary->images[i].patch_size = patch_size;
				o.summary->images[i].full_size = full;
				o.summary->images[i].base_size =
				    L.patched[i] ? L.base_size[i] : 0;
			}
		}
	}
	if (o.n_recipients && (rc = ota_package_crypt_new(
				   &L.crypt, o.recipients, o.n_recipients,
				   o.encrypt_bits, m->n_images, m->digest_alg)))
		goto out;
	if ((rc = build_region(NULL, &P, m, &L)))
		goto out;
	L.P = (uint32_t)P;
	L.first = align_up(OTAPKG_HEADER_SIZE + P + S, L.A);
	for (size_t i = 0, end = L.first; i < m->n_images; i++) {
		L.offset[i] = align_up(end, L.A);
		end = L.offset[i] + L.stored[i];
		L.total = end;
	}

	/* two halves and the cipher text: see copy_image() */
	buf = malloc(3 * COPY_BUF);
	if (!buf) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = ota_output_open(&out, out_path, 0644, 0)))
		goto out;
	for (size_t i = 0; i < m->n_images; i++) {
		rc = L.tmp[i] ? copy_tmp(out, &L, i, buf)
			      : copy_image(out, &L, i, &m->images[i],
					   m->digest_alg, buf, &o);
		if (rc)
			goto out;
	}

	region = malloc(P);
	blk = malloc(S);
	ctx = EVP_MD_CTX_new();
	if (!region || !blk || !ctx) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = build_region(region, &P, m, &L)))
		goto out;
	memcpy(header, "OTAP", 4);
	put16(header + OTAPKG_OFF_VERSION, OTAPKG_VERSION);
	for (size_t i = 0; i < m->n_images; i++)
		if (L.patched[i])
			put16(header + OTAPKG_OFF_VERSION,
			      OTAPKG_VERSION_DELTA);
	if (L.crypt)
		put16(header + OTAPKG_OFF_VERSION, OTAPKG_VERSION_CRYPT);
	put16(header + OTAPKG_OFF_HEADER_SIZE, OTAPKG_HEADER_SIZE);
	header[OTAPKG_OFF_DIGEST] = ota_package_digest_code(L.region_alg);
	put16(header + OTAPKG_OFF_IMAGE_COUNT, (uint16_t)m->n_images);
	put32(header + OTAPKG_OFF_PROTECTED, L.P);
	put32(header + OTAPKG_OFF_SIGBLOCK, L.S);
	put32(header + OTAPKG_OFF_ALIGN, L.A);
	put64(header + OTAPKG_OFF_TOTAL, L.total);

	if (!EVP_DigestInit_ex(ctx, ota_digest_md(L.region_alg), NULL) ||
	    !EVP_DigestUpdate(ctx, header, sizeof(header)) ||
	    !EVP_DigestUpdate(ctx, region, P) ||
	    !EVP_DigestFinal_ex(ctx, H.bytes, &n)) {
		rc = ota_error(OTA_EINTERNAL, "digest failed");
		goto out;
	}
	H.len = n;
	H.alg = L.region_alg;
	if ((rc = build_sigblock(blk, &L, &H, signers, n_signers)) ||
	    (rc = ota_output_pwrite(out, header, sizeof(header), 0)) ||
	    (rc = ota_output_pwrite(out, region, P, OTAPKG_HEADER_SIZE)) ||
	    (rc = ota_output_pwrite(out, blk, S, OTAPKG_HEADER_SIZE + P)))
		goto out;
	/* An empty last image still ends the file at the declared size. */
	if ((rc = ota_output_truncate(out, L.total)))
		goto out;
	rc = ota_output_commit(out);
	out = NULL;
	if (rc == 0 && o.summary) {
		o.summary->n_images = m->n_images;
		for (size_t i = 0; i < m->n_images; i++) {
			__typeof__(o.summary->images[0]) *si =
			    &o.summary->images[i];

			snprintf(si->name, sizeof(si->name), "%s",
				 m->images[i].name);
			si->stored = L.patched[i] ? OTA_PACKAGE_STORED_PATCH
				     : L.compressed[i]
					 ? OTA_PACKAGE_STORED_ZLIB
					 : OTA_PACKAGE_STORED_WHOLE;
			si->size = m->images[i].size;
			si->stored_size = L.stored[i];
			si->encrypted = L.crypt != NULL;
		}
	}
out:
	ota_output_abort(out);
	ota_package_crypt_free(L.crypt);
	for (size_t i = 0; i < OTAPKG_MAX_IMAGES; i++)
		if (L.tmp[i])
			fclose(L.tmp[i]);
	EVP_MD_CTX_free(ctx);
	free(buf);
	free(region);
	free(blk);
	return rc;
}
