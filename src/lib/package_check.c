/*
 * Checking a package on the host: the device verifier (otaverify.c) does
 * the parsing; this file gives it OpenSSL crypto, judges signatures
 * against the trust and the device policy (policy.c) where the device
 * would, inflates compressed images and rebuilds patched ones (through the
 * device applier, delta_apply.c) to check what would be flashed, and
 * records everything for inspect and verify reports.
 */
#include "hasher.h"
#include "json_priv.h"
#include "otatool/cipher.h"
#include "otatool/delta.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/hex.h"
#include "otatool/output.h"
#include "otatool/package.h"
#include "otatool/policy.h"
#include "otatool/timestamp.h"
#include "otaverify.h"
#include "package_priv.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define READ_CHUNK (256u << 10)

struct reader {
	struct ota_package_report *r;
	const struct ota_package_check_opts *o;
	const char *path;
	const struct ota_device_facts *device;
	/* where the policy's facts are, for messages: as the device says */
	uint64_t hw_off, counter_off, boot_off, policy_off;
	bool policy_judged;
	enum ota_package_stop stop; /* the part the last callback was in */
	EVP_MD_CTX *md;
	/* certificates of the signature being parsed */
	uint8_t *certs[OTAPKG_MAX_SIGS];
	size_t cert_lens[OTAPKG_MAX_SIGS];
	uint8_t *cert_buf;
	size_t cert_used;
	unsigned cert_sig, n_cert, n_cert_all;
	uint32_t cert_expect;
	/* the unprotected region entry being read: value bytes so far */
	size_t region_got, region_len;
	/* timestamps read ahead from the region, per signature entry */
	uint8_t *ahead;
	const uint8_t *ts[OTAPKG_MAX_SIGS];
	size_t ts_len[OTAPKG_MAX_SIGS];
	/* the image being streamed */
	z_stream zs;
	bool z_active;
	EVP_MD_CTX *flash_md;
	uint64_t flashed;
	uint8_t *zbuf;
	struct ota_output *out[OTAPKG_MAX_IMAGES];
	/* patched images: the applier, and where its output goes */
	struct ota_delta_apply *delta[OTAPKG_MAX_IMAGES];
	struct delta_sink {
		struct reader *rd;
		unsigned index;
	} sink[OTAPKG_MAX_IMAGES];
	char patch_names[OTAPKG_MAX_IMAGES][96];
	struct ota_digest targets[OTAPKG_MAX_IMAGES]; /* the appliers keep
							 pointers to these */
	unsigned current_image; /* whose bytes are streaming */
	int err;                /* a host-side failure inside a callback */
	/* encrypted images: decrypted with o->decrypt_key when given */
	bool decrypting;
	bool hash_flashed; /* the flashed bytes differ from the stored */
	struct ota_package_decrypt dec;
};

/* The digest of an OTAPKG_DIGEST_* code that the verifier accepted. */
static enum ota_digest_alg digest_of(uint8_t code)
{
	enum ota_digest_alg alg;

	return ota_package_digest_alg(&alg, code) ? OTA_DIGEST_SHA256 : alg;
}

static const EVP_MD *md_for(uint8_t code)
{
	return ota_digest_md(digest_of(code));
}

static int c_hash_init(void *ctx, uint8_t alg)
{
	struct reader *rd = ctx;

	return EVP_DigestInit_ex(rd->md, md_for(alg), NULL) == 1 ? 0 : -1;
}

static int c_hash_update(void *ctx, const uint8_t *data, size_t len)
{
	struct reader *rd = ctx;

	return EVP_DigestUpdate(rd->md, data, len) == 1 ? 0 : -1;
}

static int c_hash_final(void *ctx, uint8_t *out)
{
	struct reader *rd = ctx;
	unsigned int n;

	return EVP_DigestFinal_ex(rd->md, out, &n) == 1 ? 0 : -1;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* The next signature entry starts with no certificates. */
static void drop_certs(struct reader *rd)
{
	for (unsigned i = 0; i < rd->n_cert; i++) {
		free(rd->certs[i]);
		rd->certs[i] = NULL;
	}
	rd->n_cert = 0;
	rd->n_cert_all = 0;
}

static int c_verify(void *ctx, const struct otav_sig *sig,
		    const uint8_t *digest, size_t digest_len)
{
	struct reader *rd = ctx;
	struct ota_package_report *r = rd->r;
	struct ota_package_sig_info *si;
	struct ota_trust_sig ts = { 0 };
	struct ota_digest d = { 0 };
	enum ota_sig_alg alg;
	char when_error[OTA_TIMESTAMP_TEXT_LEN + 64];
	unsigned idx = (unsigned)r->n_sigs;

	rd->stop = OTA_PACKAGE_STOP_SIGNATURE;
	if (idx >= OTA_PACKAGE_MAX_SIGS)
		return -1;
	si = &r->sigs[idx];
	r->n_sigs++;
	si->alg_code = sig->alg;
	si->siglen = sig->len;
	si->n_certs = rd->n_cert;
	si->n_certs_in_entry = rd->n_cert_all;
	memcpy(si->sig, sig->sig, sig->len);
	ota_hex_encode(si->keyid, sig->keyid, 32);
	if (!rd->o->trust) {
		drop_certs(rd);
		return 1; /* inspect: nothing is judged */
	}
	if (ota_package_sig_alg(&alg, sig->alg))
		return -1;
	d.alg = digest_of(r->region_digest_alg);
	d.len = digest_len;
	memcpy(d.bytes, digest, digest_len);
	ts.keyid = si->keyid;
	ts.alg = alg;
	ts.sig = sig->sig;
	ts.siglen = sig->len;
	ts.n_certs = rd->n_cert;
	ts.certs = (const uint8_t *const *)rd->certs;
	ts.cert_lens = rd->cert_lens;
	ts.digest = &d;
	ts.timestamp = rd->ts[idx];
	ts.timestamp_len = rd->ts_len[idx];
	/*
	 * Chains are judged when the package was signed (otapkg.h), a time
	 * the signature vouches for: ota_trust_judge checks it first.
	 */
	ts.when = (int64_t)time(NULL);
	if (r->has_signing_time &&
	    r->signing_time <= (uint64_t)OTA_TIMESTAMP_MAX) {
		ts.when = (int64_t)r->signing_time;
	} else if (r->has_signing_time) {
		char t[OTA_TIMESTAMP_TEXT_LEN];

		ota_timestamp_describe(t, r->signing_time);
		snprintf(when_error, sizeof(when_error),
			 "SIGNING_TIME at offset %llu is %s",
			 (unsigned long long)r->signing_time_offset, t);
		ts.when_error = when_error;
	}
	si->trust = calloc(1, sizeof(*si->trust));
	if (!si->trust) {
		rd->err = ota_error(OTA_EINTERNAL, "out of memory");
		return 2; /* stops: the verifier says "crypto" */
	}
	if ((rd->err = ota_trust_judge(si->trust, rd->o->trust, &ts))) {
		/* Could not judge at all: say why on the signature's line. */
		snprintf(si->trust->message, sizeof(si->trust->message), "%s",
			 ota_error_message());
		return 2;
	}
	si->judged = true;
	drop_certs(rd);
	switch (si->trust->verdict) {
	case OTA_TRUST_VALID:
		if (r->trusted_sig < 0)
			r->trusted_sig = (int)idx;
		return 0;
	case OTA_TRUST_BAD_SIG:
		return -1;
	default:
		return 1;
	}
}

static int c_unwrap(void *ctx, unsigned image, const struct otav_image_key *k)
{
	struct reader *rd = ctx;

	return ota_package_decrypt_unwrap(&rd->dec, image, k);
}

static int c_cipher_init(void *ctx, unsigned image)
{
	struct reader *rd = ctx;

	return ota_package_decrypt_begin(&rd->dec, image);
}

static int c_cipher_update(void *ctx, const uint8_t *in, uint8_t *out,
			   size_t len)
{
	struct reader *rd = ctx;

	return ota_package_decrypt_update(&rd->dec, in, out, len);
}

static void c_cipher_end(void *ctx, unsigned image)
{
	struct reader *rd = ctx;

	ota_package_decrypt_end(&rd->dec, image);
}

/* Certificates arrive in chunks; keep each whole for the chain check. */
static int e_cert_data(void *ctx, unsigned sig_index, unsigned cert_index,
		       uint32_t cert_len, const uint8_t *data, size_t len)
{
	struct reader *rd = ctx;

	rd->stop = OTA_PACKAGE_STOP_STRUCTURE;
	if (rd->n_cert_all <= cert_index)
		rd->n_cert_all = cert_index + 1;
	if (cert_index >= OTAPKG_MAX_SIGS)
		return 0; /* more than the chain checker takes: ignored */
	if (rd->n_cert <= cert_index) {
		if (cert_len > OTAPKG_MAX_CERTS_LEN)
			return -1;
		rd->certs[cert_index] = malloc(cert_len ? cert_len : 1);
		if (!rd->certs[cert_index])
			return -1;
		rd->cert_lens[cert_index] = 0;
		rd->n_cert = cert_index + 1;
	}
	(void)sig_index;
	if (rd->cert_lens[cert_index] + len > cert_len)
		return -1;
	memcpy(rd->certs[cert_index] + rd->cert_lens[cert_index], data, len);
	rd->cert_lens[cert_index] += len;
	return 0;
}

/*
 * The unprotected region, walked by the verifier: each entry is kept
 * whole (the region is at most 1 MiB), its index bytes apart.
 */
static int e_region_tlv(void *ctx, uint64_t offset, uint16_t type, uint16_t len)
{
	struct reader *rd = ctx;
	struct ota_package_region *reg = &rd->r->region;
	struct ota_region_entry *grown, *e;
	size_t data_len =
	    type == OTA_REGION_ROOT_RECORD ? len : len - OTAPKG_REGION_FIXED;

	rd->stop = OTA_PACKAGE_STOP_STRUCTURE;
	grown = realloc(reg->entries, (reg->n + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	reg->entries = grown;
	e = &reg->entries[reg->n];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->offset = offset;
	e->data = malloc(data_len ? data_len : 1);
	if (!e->data)
		return -1;
	reg->n++;
	rd->region_got = 0;
	rd->region_len = len;
	return 0;
}

static int e_region_data(void *ctx, const uint8_t *data, size_t len)
{
	struct reader *rd = ctx;
	struct ota_package_region *reg = &rd->r->region;
	struct ota_region_entry *e = &reg->entries[reg->n - 1];

	if (rd->region_got + len > rd->region_len)
		return -1;
	/* the index bytes of a TIMESTAMP or OCSP entry, then its DER */
	while (len > 0 && e->type != OTA_REGION_ROOT_RECORD &&
	       rd->region_got < OTAPKG_REGION_FIXED) {
		if (rd->region_got == 0)
			e->sig_index = data[0];
		else if (rd->region_got == 1 && e->type == OTA_REGION_OCSP)
			e->cert_index = data[0];
		rd->region_got++;
		data++;
		len--;
	}
	memcpy(e->data + e->len, data, len);
	e->len += len;
	rd->region_got += len;
	return 0;
}

static void copy_text(char *dst, size_t cap, const uint8_t *v, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static int e_tlv(void *ctx, uint64_t offset, uint16_t type, const uint8_t *v,
		 uint16_t len)
{
	struct reader *rd = ctx;
	struct ota_package_report *r = rd->r;

	switch (type) {
	case OTAPKG_TLV_NAME:
		copy_text(r->name, sizeof(r->name), v, len);
		break;
	case OTAPKG_TLV_VERSION:
		copy_text(r->version, sizeof(r->version), v, len);
		break;
	case OTAPKG_TLV_SECURITY_COUNTER:
		rd->counter_off = offset + 4;
		if (len == 4)
			r->security_counter = get32(v);
		break;
	case OTAPKG_TLV_BOOTLOADER_MIN:
		rd->boot_off = offset + 4;
		if (len == 12) {
			r->has_bootloader_min = true;
			for (int i = 0; i < 3; i++)
				r->bootloader_min[i] = get32(v + 4 * i);
		}
		break;
	case OTAPKG_TLV_HARDWARE:
		if (r->n_hardware == 0)
			rd->hw_off = offset;
		if (r->n_hardware < OTA_PACKAGE_MAX_HW)
			copy_text(r->hardware[r->n_hardware++], 65, v, len);
		break;
	case OTAPKG_TLV_GIT_COMMIT:
		if (len == 20 || len == 32)
			ota_hex_encode(r->git_commit, v, len);
		break;
	case OTAPKG_TLV_BUILD_TIME:
		if (len == 8) {
			r->has_build_time = true;
			r->build_time = get64(v);
		}
		break;
	case OTAPKG_TLV_SIGNING_TIME:
		if (len == 8) {
			r->has_signing_time = true;
			r->signing_time = get64(v);
			r->signing_time_offset = offset + 4;
		}
		break;
	case OTAPKG_TLV_IMAGE_KEY:
		/* the verifier checked it before this event */
		if (len >= OTAPKG_IMAGE_KEY_FIXED && v[0] < r->n_images) {
			__typeof__(r->images[0]) *img = &r->images[v[0]];

			img->key_len = v[2];
			if (img->n_keys < OTA_PACKAGE_MAX_RECIPIENTS) {
				img->keys[img->n_keys].scheme = v[1];
				ota_hex_encode(img->keys[img->n_keys].keyid,
					       v + 4, 32);
			}
			img->n_keys++;
		}
		break;
	case OTAPKG_TLV_DEPENDENCY:
		if (len >= 1 && v[0] < len &&
		    r->n_deps < OTA_PACKAGE_MAX_DEPS) {
			copy_text(r->dep_names[r->n_deps], 65, v + 1, v[0]);
			copy_text(r->dep_ranges[r->n_deps], 256, v + 1 + v[0],
				  (size_t)(len - 1 - v[0]));
			r->n_deps++;
		}
		break;
	default:
		break;
	}
	return 0;
}

static int e_image(void *ctx, unsigned index, const struct otav_image *img)
{
	struct reader *rd = ctx;
	struct ota_package_report *r = rd->r;
	const char *kind = ota_package_kind_name(img->kind);

	if (index >= OTA_PACKAGE_MAX_IMAGES)
		return -1;
	if (r->n_images <= index)
		r->n_images = index + 1;
	snprintf(r->images[index].name, 65, "%s", img->name);
	snprintf(r->images[index].kind, 65, "%s",
		 kind ? kind : img->custom_kind);
	r->images[index].compression = img->compression;
	r->images[index].digest_alg = img->digest_alg;
	r->images[index].has_load_address = img->flags & OTAPKG_IMAGE_LOAD;
	r->images[index].encrypted = img->flags & OTAPKG_IMAGE_ENCRYPTED;
	r->images[index].offset = img->offset;
	r->images[index].stored_size = img->stored_size;
	r->images[index].size = img->size;
	r->images[index].load_address = img->load_address;
	r->images[index].digest_len =
	    ota_digest_alg_size(digest_of(img->digest_alg));
	memcpy(r->images[index].digest, img->digest, 64);
	memcpy(r->images[index].stored_digest, img->stored_digest, 64);
	return 0;
}

static int e_header(void *ctx, const uint8_t header[OTAPKG_HEADER_SIZE])
{
	struct reader *rd = ctx;
	struct ota_package_report *r = rd->r;

	memcpy(r->header, header, OTAPKG_HEADER_SIZE);
	r->format_version = (uint16_t)(header[4] | header[5] << 8);
	r->region_digest_alg = header[OTAPKG_OFF_DIGEST];
	r->protected_size = get32(header + OTAPKG_OFF_PROTECTED);
	r->sigblock_size = get32(header + OTAPKG_OFF_SIGBLOCK);
	r->alignment = get32(header + OTAPKG_OFF_ALIGN);
	r->total_size = get64(header + OTAPKG_OFF_TOTAL);
	return 0;
}

/* The otav status of a policy refusal, for the report's status name. */
static enum otav_status policy_status(int rc)
{
	return rc == OTA_EHARDWARE   ? OTAV_E_HARDWARE
	       : rc == OTA_EROLLBACK ? OTAV_E_ROLLBACK
				     : OTAV_E_BOOTLOADER;
}

/* The applier's output: counted, and written out when extracting. */
static int flashed_bytes(struct reader *rd, unsigned index, const uint8_t *data,
			 size_t len);

static int sink_write(void *ctx, const uint8_t *data, size_t len)
{
	struct delta_sink *s = ctx;
	struct reader *rd = s->rd;

	if (flashed_bytes(rd, s->index, data, len) == 0)
		return 0;
	if (rd->err)
		return rd->err;
	return ota_error(OTA_EVERIFY, "image \"%s\": rebuilt past its size",
			 rd->r->images[s->index].name);
}

/*
 * Patched images, once the signature verified and before any payload:
 * each base is found, then checked whole against the signed size and
 * digest (ota_delta_apply_new hashes it), so that a wrong base is refused
 * before anything is written.
 */
static int delta_setup(struct reader *rd)
{
	struct ota_package_report *r = rd->r;
	const struct ota_package_bases *b = rd->o->bases;

	for (unsigned i = 0; i < r->n_images; i++) {
		__typeof__(r->images[0]) *img = &r->images[i];
		struct ota_delta_apply_opts ao = { 0 };
		struct ota_digest want = { 0 }, *target = &rd->targets[i];
		char base[4096], bd[2 * 64 + 1];
		int rc;

		if (img->compression != OTAPKG_COMP_PATCH)
			continue;
		rd->stop = OTA_PACKAGE_STOP_IMAGE;
		ota_hex_encode(bd, img->base_digest, img->digest_len);
		if (!b && !rd->o->extract_dir)
			continue; /* checked as stored, not rebuilt */
		img->failed = true;
		if (!b) {
			rd->err = ota_error(
			    OTA_EUSAGE,
			    "image \"%s\" is a patch against a base image "
			    "(%llu bytes, %s %s): give the release it was "
			    "made from with --base",
			    img->name, (unsigned long long)img->base_size,
			    ota_digest_alg_name(digest_of(img->digest_alg)),
			    bd);
			return -1;
		}
		if (ota_package_bases_find(b, img->name, base, sizeof(base))) {
			rd->err = ota_error(
			    OTA_EINPUT,
			    "image \"%s\" is a patch, but %s has no base image "
			    "of that name (%s.bin)",
			    img->name, ota_package_bases_origin(b), img->name);
			return -1;
		}
		want.alg = target->alg = digest_of(img->digest_alg);
		want.len = target->len = img->digest_len;
		memcpy(want.bytes, img->base_digest, img->digest_len);
		memcpy(target->bytes, img->digest, img->digest_len);
		snprintf(rd->patch_names[i], sizeof(rd->patch_names[i]),
			 "image \"%s\"", img->name);
		ao.digest_alg = want.alg;
		ao.base_digest = &want;
		ao.target_digest = target;
		ao.target_size = &img->size;
		ao.patch_name = rd->patch_names[i];
		rd->sink[i].rd = rd;
		rd->sink[i].index = i;
		if ((rc = ota_delta_apply_new(&rd->delta[i], base, &ao,
					      sink_write, &rd->sink[i]))) {
			rd->err = rc;
			return -1;
		}
		img->failed = false;
	}
	return 0;
}

void ota_package_describe_recipients(char *out, size_t cap,
				     const struct ota_package_report *r,
				     size_t i)
{
	size_t pos = 0;

	out[0] = '\0';
	for (size_t k = 0; k < r->images[i].n_keys &&
			   k < OTA_PACKAGE_MAX_RECIPIENTS && pos < cap;
	     k++) {
		const char *name =
		    ota_wrap_scheme_name(r->images[i].keys[k].scheme);
		int n = snprintf(out + pos, cap - pos, "%s%s key id %s",
				 k ? ", " : "", name ? name : "unknown",
				 r->images[i].keys[k].keyid);

		if (n < 0)
			break;
		pos += (size_t)n;
	}
}

/*
 * Encrypted images, once the signature verified and before any payload:
 * extracting needs the key; with one, each image's key must have
 * unwrapped (the verifier's unwrap callback, while it parsed the region),
 * else the key is of the wrong type (OTA_EKEY) or none of the IMAGE_KEY
 * TLVs is for it (OTA_EVERIFY): said here, naming the recipients.
 */
static int crypt_setup(struct reader *rd)
{
	struct ota_package_report *r = rd->r;

	for (unsigned i = 0; i < r->n_images; i++) {
		char who[512];
		bool fits = false;

		if (!r->images[i].encrypted)
			continue;
		rd->stop = OTA_PACKAGE_STOP_IMAGE;
		ota_package_describe_recipients(who, sizeof(who), r, i);
		if (!rd->decrypting && !rd->o->extract_dir)
			continue; /* checked as stored, not decrypted */
		if (!rd->decrypting) {
			r->images[i].failed = true;
			rd->err = ota_error(
			    OTA_EUSAGE,
			    "image \"%s\" is encrypted (AES-%u, for %s): give "
			    "a recipient's key with --decrypt-key",
			    r->images[i].name, r->images[i].key_len * 8u, who);
			return -1;
		}
		if (rd->dec.keyed & 1u << i)
			continue;
		r->images[i].failed = true;
		if (rd->dec.err) {
			rd->err = rd->dec.err;
			return -1;
		}
		for (size_t k = 0;
		     k < r->images[i].n_keys && k < OTA_PACKAGE_MAX_RECIPIENTS;
		     k++) {
			enum ota_wrap_scheme s;

			if (!ota_wrap_scheme_of_tlv(
				&s, r->images[i].keys[k].scheme) &&
			    ota_decrypt_key_accepts(rd->dec.key, s))
				fits = true;
		}
		ota_error_clear();
		if (!fits) {
			rd->err =
			    ota_error(OTA_EKEY,
				      "image \"%s\": a %s key cannot "
				      "decrypt it: it is encrypted for %s",
				      r->images[i].name,
				      ota_decrypt_key_kind(rd->dec.key), who);
			return -1;
		}
		if (rd->dec.has_id && !(rd->dec.tried & 1u << i)) {
			char id[2 * 32 + 1];

			ota_hex_encode(id, rd->dec.id, 32);
			rd->err = ota_error(
			    OTA_EVERIFY,
			    "image \"%s\": no IMAGE_KEY unwraps "
			    "with this %s key: its key id %s is "
			    "no recipient; it is encrypted for %s",
			    r->images[i].name,
			    ota_decrypt_key_kind(rd->dec.key), id, who);
			return -1;
		}
		rd->err = ota_error(OTA_EVERIFY,
				    "image \"%s\": no IMAGE_KEY unwraps with "
				    "this %s key (a wrong key, or an altered "
				    "key TLV); it is encrypted for %s",
				    r->images[i].name,
				    ota_decrypt_key_kind(rd->dec.key), who);
		return -1;
	}
	return 0;
}

/*
 * The trust's threshold (verify --threshold, a root record's release
 * threshold): distinct trusted keys, a key that signed twice counted
 * once; judged once every signature is, before any image is read.
 */
static int threshold_check(struct reader *rd)
{
	struct ota_package_report *r = rd->r;
	const struct ota_trust_result *res[OTA_PACKAGE_MAX_SIGS];
	const char *ids[OTA_PACKAGE_MAX_SIGS];
	const struct ota_trust *t = rd->o->trust;

	for (size_t i = 0; i < r->n_sigs; i++) {
		res[i] = r->sigs[i].trust;
		ids[i] = r->sigs[i].keyid;
	}
	r->threshold = t->threshold ? t->threshold : 1;
	if (ota_trust_threshold_met(t, res, ids, r->n_sigs,
				    &r->distinct_signers))
		return 0;
	rd->stop = OTA_PACKAGE_STOP_SIGNATURE;
	rd->err =
	    ota_error(OTA_EVERIFY,
		      "%s: offset %llu: signed by %u distinct trusted "
		      "key%s; %u required",
		      rd->path, (unsigned long long)(64 + r->protected_size),
		      r->distinct_signers, r->distinct_signers == 1 ? "" : "s",
		      r->threshold);
	return -1;
}

/*
 * The device policy, at the point the device verifier judges its own: a
 * signature verified and the signature block is done, no image read yet.
 */
static int e_authentic(void *ctx, const struct otav_info *info)
{
	struct reader *rd = ctx;
	struct ota_package_report *r = rd->r;
	struct ota_release_facts f;
	int rc;

	if (rd->o->trust && (rc = threshold_check(rd)))
		return rc;
	for (unsigned i = 0; i < info->image_count && i < r->n_images; i++) {
		r->images[i].has_base = info->images[i].has_base;
		r->images[i].base_size = info->images[i].base_size;
		memcpy(r->images[i].base_digest, info->images[i].base_digest,
		       64);
	}
	if (!rd->device)
		return crypt_setup(rd) ? -1 : delta_setup(rd);
	rd->stop = OTA_PACKAGE_STOP_POLICY;
	rd->policy_judged = true;
	ota_release_facts_of_package(&f, r);
	rc = ota_policy_judge(&r->policy, rd->device, &f, r->trusted_sig >= 0);
	if (!rc)
		return crypt_setup(rd) ? -1 : delta_setup(rd);
	rd->policy_off = rc == OTA_EHARDWARE   ? rd->hw_off
			 : rc == OTA_EROLLBACK ? rd->counter_off
					       : rd->boot_off;
	rd->err =
	    ota_error(rc, "%s: offset %llu: %s (%s)", rd->path,
		      (unsigned long long)rd->policy_off, r->policy.message,
		      otav_status_name(policy_status(rc)));
	return -1;
}

/* Starts the per-image work: inflater, flashed digest, extraction file. */
static int image_begin(struct reader *rd, unsigned index)
{
	struct ota_package_report *r = rd->r;
	char path[4096];

	rd->flashed = 0;
	rd->hash_flashed = r->images[index].compression == OTAPKG_COMP_ZLIB ||
			   (r->images[index].encrypted &&
			    r->images[index].compression == OTAPKG_COMP_NONE);
	if (!EVP_DigestInit_ex(rd->flash_md,
			       md_for(r->images[index].digest_alg), NULL))
		return -1;
	/* Cipher text without its key is never inflated (e_image_done). */
	if (r->images[index].compression == OTAPKG_COMP_ZLIB &&
	    (!r->images[index].encrypted || rd->decrypting)) {
		memset(&rd->zs, 0, sizeof(rd->zs));
		if (inflateInit(&rd->zs) != Z_OK)
			return -1;
		rd->z_active = true;
	}
	if (rd->o->extract_dir) {
		/*
		 * The name becomes a file name: only what otatool writes
		 * ([A-Za-z0-9._-], not starting with '.'), and no two alike,
		 * so that no signed name can reach outside the directory.
		 */
		const char *name = r->images[index].name;

		if (!name[0] || name[0] == '.' ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
				 "TUVWXYZ0123456789._-") != strlen(name)) {
			rd->err = ota_error(OTA_EVERIFY,
					    "image %u: name \"%s\" cannot be a "
					    "file name",
					    index, name);
			return -1;
		}
		for (unsigned k = 0; k < index; k++)
			if (strcmp(r->images[k].name, name) == 0) {
				rd->err = ota_error(OTA_EVERIFY,
						    "image %u: name \"%s\" is "
						    "used twice",
						    index, name);
				return -1;
			}
		snprintf(path, sizeof(path), "%s/%s.bin", rd->o->extract_dir,
			 name);
		if ((rd->err = ota_output_open(&rd->out[index], path, 0644, 0)))
			return -1;
	}
	return 0;
}

static int flashed_bytes(struct reader *rd, unsigned index, const uint8_t *data,
			 size_t len)
{
	rd->flashed += len;
	if (rd->flashed > rd->r->images[index].size)
		return -1; /* inflates to more than declared */
	/*
	 * Uncompressed, the flashed bytes are the stored ones, whose digest
	 * the verifier checks (and requires equal to the flashed digest):
	 * hashing them twice would only cost time.
	 */
	if (rd->hash_flashed && EVP_DigestUpdate(rd->flash_md, data, len) != 1)
		return -1;
	if (rd->out[index] &&
	    (rd->err = ota_output_write(rd->out[index], data, len)))
		return -1;
	return 0;
}

/*
 * The stored bytes as they are in the clear (an encrypted image's after
 * the verifier decrypted them): rebuilt, inflated or taken as they are.
 */
static int clear_bytes(struct reader *rd, unsigned index, const uint8_t *data,
		       size_t len)
{
	if (rd->r->images[index].compression == OTAPKG_COMP_PATCH) {
		if (!rd->delta[index])
			return 0; /* no base: only the stored digest */
		if ((rd->err =
			 ota_delta_apply_feed(rd->delta[index], data, len))) {
			rd->r->images[index].failed = true;
			return -1;
		}
		return 0;
	}
	if (!rd->z_active)
		return flashed_bytes(rd, index, data, len);
	rd->zs.next_in = (Bytef *)data;
	rd->zs.avail_in = (uInt)len;
	while (rd->zs.avail_in > 0) {
		int zrc;

		rd->zs.next_out = rd->zbuf;
		rd->zs.avail_out = READ_CHUNK;
		zrc = inflate(&rd->zs, Z_NO_FLUSH);
		if (zrc != Z_OK && zrc != Z_STREAM_END)
			return -1;
		if (flashed_bytes(rd, index, rd->zbuf,
				  READ_CHUNK - rd->zs.avail_out))
			return -1;
		if (zrc == Z_STREAM_END && rd->zs.avail_in > 0)
			return -1; /* bytes after the zlib stream */
	}
	return 0;
}

static int e_image_data(void *ctx, unsigned index, const uint8_t *data,
			size_t len)
{
	struct reader *rd = ctx;

	rd->stop = OTA_PACKAGE_STOP_IMAGE;
	if (index != rd->current_image) {
		rd->current_image = index;
		if (image_begin(rd, index))
			return -1;
	}
	/* Encrypted: only the stored digest, unless e_image_clear follows. */
	if (rd->r->images[index].encrypted)
		return 0;
	return clear_bytes(rd, index, data, len);
}

static int e_image_clear(void *ctx, unsigned index, const uint8_t *data,
			 size_t len)
{
	struct reader *rd = ctx;

	return clear_bytes(rd, index, data, len);
}

static int e_image_done(void *ctx, unsigned index)
{
	struct reader *rd = ctx;
	struct ota_package_report *r = rd->r;
	uint8_t d[64];
	unsigned int n;

	rd->stop = OTA_PACKAGE_STOP_IMAGE;
	if (index != rd->current_image) { /* empty image: no data event */
		rd->current_image = index;
		if (image_begin(rd, index))
			return -1;
	}
	r->images[index].stored_ok = true;
	if (r->images[index].encrypted && !rd->decrypting)
		return 0; /* authentic and intact, but not decrypted */
	if (r->images[index].compression == OTAPKG_COMP_PATCH) {
		if (!rd->delta[index])
			return 0; /* authentic and intact, but not rebuilt */
		rd->err = ota_delta_apply_finish(rd->delta[index], NULL);
		ota_delta_apply_free(rd->delta[index]);
		rd->delta[index] = NULL;
		if (rd->err || rd->flashed != r->images[index].size) {
			r->images[index].failed = true;
			if (!rd->err)
				rd->err = ota_error(OTA_EVERIFY,
						    "image \"%s\": rebuilt "
						    "short of its size",
						    r->images[index].name);
			return -1;
		}
		r->images[index].flashed_ok = true;
		r->images[index].rebuilt = true;
		r->images[index].decrypted = r->images[index].encrypted;
		return 0;
	}
	if (rd->z_active) {
		/* Drain what the inflater still holds. */
		int zrc;

		do {
			rd->zs.next_out = rd->zbuf;
			rd->zs.avail_out = READ_CHUNK;
			zrc = inflate(&rd->zs, Z_FINISH);
			if (zrc != Z_STREAM_END && zrc != Z_BUF_ERROR &&
			    zrc != Z_OK)
				break;
			if (flashed_bytes(rd, index, rd->zbuf,
					  READ_CHUNK - rd->zs.avail_out))
				return -1;
		} while (zrc == Z_OK && rd->zs.avail_out == 0);
		inflateEnd(&rd->zs);
		rd->z_active = false;
		if (zrc != Z_STREAM_END) {
			rd->err =
			    ota_error(OTA_EVERIFY,
				      "image \"%s\": stored bytes are not "
				      "a complete zlib stream",
				      r->images[index].name);
			return -1;
		}
	}
	if (r->images[index].compression == OTAPKG_COMP_NONE &&
	    !r->images[index].encrypted) {
		/* stored digest == flashed digest, checked by the verifier */
		memcpy(d, r->images[index].stored_digest,
		       r->images[index].digest_len);
		n = (unsigned int)r->images[index].digest_len;
	} else {
		EVP_DigestFinal_ex(rd->flash_md, d, &n);
	}
	if (rd->flashed != r->images[index].size ||
	    memcmp(d, r->images[index].digest, n) != 0) {
		rd->err = ota_error(OTA_EVERIFY,
				    "image \"%s\": the %s bytes do not match "
				    "the flashed digest",
				    r->images[index].name,
				    r->images[index].compression ? "inflated"
				    : r->images[index].encrypted ? "decrypted"
								 : "stored");
		return -1;
	}
	r->images[index].flashed_ok = true;
	r->images[index].decrypted = r->images[index].encrypted;
	return 0;
}

/*
 * The part of the package where the verifier stopped with status s; for a
 * host callback's refusal, the part that callback was working on (cb).
 */
static enum ota_package_stop stop_of(enum otav_status s,
				     enum ota_package_stop cb)
{
	switch (s) {
	case OTAV_E_ABORTED:
		return cb;
	case OTAV_E_CRYPTO: /* judging a signature, or hashing */
		return cb == OTA_PACKAGE_STOP_SIGNATURE
			   ? cb
			   : OTA_PACKAGE_STOP_OTHER;
	case OTAV_OK:
		return OTA_PACKAGE_STOP_NONE;
	case OTAV_E_TRUNCATED:
	case OTAV_E_TRAILING:
		return OTA_PACKAGE_STOP_END;
	case OTAV_E_MAGIC:
	case OTAV_E_VERSION:
	case OTAV_E_HEADER:
	case OTAV_E_TLV:
	case OTAV_E_SIGBLOCK:
	case OTAV_E_PADDING:
		return OTA_PACKAGE_STOP_STRUCTURE;
	case OTAV_E_SIGNATURE:
		return OTA_PACKAGE_STOP_SIGNATURE;
	case OTAV_E_DIGEST:
	case OTAV_E_KEY:
		return OTA_PACKAGE_STOP_IMAGE;
	case OTAV_E_HARDWARE:
	case OTAV_E_ROLLBACK:
	case OTAV_E_BOOTLOADER:
		return OTA_PACKAGE_STOP_POLICY;
	default:
		return OTA_PACKAGE_STOP_OTHER;
	}
}

/* Why no signature was accepted: the first judged reason that says most. */
static int signature_failure(struct ota_package_report *r, const char *path,
			     uint64_t offset)
{
	for (size_t i = 0; i < r->n_sigs; i++)
		if (r->sigs[i].trust &&
		    r->sigs[i].trust->verdict == OTA_TRUST_BAD_SIG)
			return ota_error(OTA_EVERIFY, "%s: signature %zu: %s",
					 path, i, r->sigs[i].trust->message);
	for (size_t i = 0; i < r->n_sigs; i++)
		if (r->sigs[i].trust &&
		    r->sigs[i].trust->verdict == OTA_TRUST_CHAIN_FAIL)
			return ota_error(OTA_EUNTRUSTED,
					 "%s: signature %zu: %s", path, i,
					 r->sigs[i].trust->message);
	return ota_error(OTA_EVERIFY,
			 "%s: offset %llu: no signature is by a trusted key "
			 "(%zu signature%s: %s)",
			 path, (unsigned long long)offset, r->n_sigs,
			 r->n_sigs == 1 ? "" : "s",
			 r->n_sigs && r->sigs[0].trust
			     ? r->sigs[0].trust->message
			     : "none could be read");
}

/*
 * Signatures are judged when the verifier reaches them, but their
 * timestamps are in the unprotected region at the end: a well-formed
 * region is read ahead, and its TIMESTAMP entries kept for c_verify. The
 * verifier walks the region again in order and refuses the package if it
 * is not valid, so nothing read here outlives a refusal.
 */
static int read_ahead(struct reader *rd, int fd, uint64_t file_size)
{
	uint8_t h[OTAPKG_HEADER_SIZE];
	uint64_t total;
	size_t n, u, pos = 0;

	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return 0;
	total = get64(h + OTAPKG_OFF_TOTAL);
	if (total >= file_size ||
	    file_size - total > OTAPKG_MAX_REGION + OTAPKG_REGION_FOOTER ||
	    file_size - total < 16)
		return 0;
	n = (size_t)(file_size - total);
	if (!(rd->ahead = malloc(n)))
		return ota_error(OTA_EINTERNAL, "out of memory");
	if (pread(fd, rd->ahead, n, (off_t)total) != (ssize_t)n)
		return 0;
	u = n - OTAPKG_REGION_FOOTER;
	if (memcmp(rd->ahead + u + 4, "OTAU", 4) != 0 ||
	    get32(rd->ahead + u) != u)
		return 0;
	while (pos + 8 <= u) {
		const uint8_t *p = rd->ahead + pos;
		size_t len = (size_t)(p[2] | p[3] << 8);

		if (len > u - pos - 4)
			break;
		if ((p[0] | p[1] << 8) == OTA_REGION_TIMESTAMP &&
		    len > OTAPKG_REGION_FIXED && p[4] < OTAPKG_MAX_SIGS &&
		    !rd->ts[p[4]]) {
			rd->ts[p[4]] = p + 8;
			rd->ts_len[p[4]] = len - OTAPKG_REGION_FIXED;
		}
		pos += 4 + ((len + 3) & ~(size_t)3);
	}
	return 0;
}

int ota_package_check(struct ota_package_report *r, const char *path,
		      const struct ota_package_check_opts *o)
{
	struct otav_crypto crypto = { 0 };
	struct otav_events ev = { 0 };
	struct otav_policy pol = { 0 };
	struct reader rd = { 0 };
	struct otav *v = NULL;
	uint8_t *buf = NULL;
	uint64_t done = 0;
	enum otav_status st = OTAV_OK;
	int fd = -1, rc;

	memset(r, 0, sizeof(*r));
	r->trusted_sig = -1;
	rd.current_image = (unsigned)-1;
	rd.r = r;
	rd.o = o;
	rd.path = path;
	rd.device = o->device;
	rd.stop = OTA_PACKAGE_STOP_STRUCTURE;
	if (o->decrypt_key &&
	    (rc = ota_package_decrypt_init(&rd.dec, o->decrypt_key)))
		return rc;
	rd.decrypting = o->decrypt_key != NULL;
	if ((rc = ota_file_open_regular(&fd, &r->file_size, path))) {
		ota_package_decrypt_clear(&rd.dec);
		return rc;
	}
	if (o->trust && (rc = read_ahead(&rd, fd, r->file_size)))
		goto out;
	v = malloc(sizeof(*v));
	buf = malloc(READ_CHUNK);
	rd.zbuf = malloc(READ_CHUNK);
	rd.md = EVP_MD_CTX_new();
	rd.flash_md = EVP_MD_CTX_new();
	if (!v || !buf || !rd.zbuf || !rd.md || !rd.flash_md) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	crypto.ctx = &rd;
	crypto.hash_init = c_hash_init;
	crypto.hash_update = c_hash_update;
	crypto.hash_final = c_hash_final;
	crypto.verify = c_verify;
	if (rd.decrypting) {
		crypto.unwrap = c_unwrap;
		crypto.cipher_init = c_cipher_init;
		crypto.cipher_update = c_cipher_update;
		crypto.cipher_end = c_cipher_end;
	}
	/* The device policy is judged here (e_authentic), not by otav. */
	pol.skip_signature = o->trust == NULL;
	ev.ctx = &rd;
	ev.header = e_header;
	ev.tlv = e_tlv;
	ev.image = e_image;
	ev.cert_data = e_cert_data;
	ev.authentic = e_authentic;
	ev.image_data = e_image_data;
	ev.image_done = e_image_done;
	ev.image_clear = e_image_clear;
	ev.region_tlv = e_region_tlv;
	ev.region_data = e_region_data;
	otav_init(v, &crypto, &pol, &ev);
	r->signature_checked = o->trust != NULL;
	for (;;) {
		ssize_t got = read(fd, buf, READ_CHUNK);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = ota_error(OTA_EINPUT, "%s: read error: %s", path,
				       strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		st = otav_feed(v, buf, (size_t)got);
		done += (uint64_t)got;
		if (o->progress)
			o->progress(o->progress_ctx, done, r->file_size);
		if (st != OTAV_OK)
			break;
	}
	if (st == OTAV_OK)
		st = otav_finish(v);
	r->region.size = v->info.region_size;
	r->status = (int)st;
	r->status_name = otav_status_name(st);
	r->error_offset = v->err_offset;
	r->stopped = stop_of(st, rd.stop);
	if (r->stopped == OTA_PACKAGE_STOP_IMAGE) {
		bool marked = false;

		for (size_t i = 0; i < r->n_images; i++)
			marked = marked || r->images[i].failed;
		/* the image whose bytes were streaming, or the verifier's */
		if (!marked && st == OTAV_E_DIGEST &&
		    v->image_index < r->n_images)
			r->images[v->image_index].failed = true;
		else if (!marked && rd.current_image < r->n_images)
			r->images[rd.current_image].failed = true;
	}
	if (rd.err && rd.stop == OTA_PACKAGE_STOP_POLICY)
		r->error_offset = rd.policy_off;
	/* The policy lines the device asked for, even where not reached. */
	if (o->device && !rd.policy_judged) {
		struct ota_release_facts f;

		ota_release_facts_of_package(&f, r);
		ota_policy_judge(&r->policy, o->device, &f, false);
	}
	if (st == OTAV_OK) {
		rc = 0;
		/* A trusted key's failing signature is tampering, even beside a
		 * good one: the same rule as for signed manifests. */
		for (size_t i = 0; rc == 0 && i < r->n_sigs; i++)
			if (r->sigs[i].trust &&
			    r->sigs[i].trust->verdict == OTA_TRUST_BAD_SIG) {
				rc = ota_error(OTA_EVERIFY,
					       "%s: signature %zu: %s", path, i,
					       r->sigs[i].trust->message);
				r->stopped = OTA_PACKAGE_STOP_SIGNATURE;
			}
	} else if (rd.err) {
		rc = rd.err; /* our own callbacks said why */
	} else if (st == OTAV_E_SIGNATURE) {
		rc = signature_failure(r, path, v->err_offset);
	} else {
		rc = ota_error(OTA_EVERIFY, "%s: offset %llu: %s (%s)", path,
			       (unsigned long long)v->err_offset,
			       v->err_what ? v->err_what : "invalid",
			       otav_status_name(st));
	}
	snprintf(r->error, sizeof(r->error), "%s",
		 rc ? ota_error_message() : "");
	for (size_t i = 0; i < OTAPKG_MAX_IMAGES; i++) {
		if (!rd.out[i])
			continue;
		if (rc == 0) {
			int crc = ota_output_commit(rd.out[i]);

			if (crc && !rc)
				rc = crc;
		} else {
			ota_output_abort(rd.out[i]);
		}
		rd.out[i] = NULL;
	}
out:
	for (size_t i = 0; i < OTAPKG_MAX_IMAGES; i++)
		ota_output_abort(rd.out[i]);
	for (unsigned i = 0; i < OTAPKG_MAX_SIGS; i++)
		free(rd.certs[i]);
	for (unsigned i = 0; i < OTAPKG_MAX_IMAGES; i++)
		ota_delta_apply_free(rd.delta[i]);
	if (rd.z_active)
		inflateEnd(&rd.zs);
	ota_package_decrypt_clear(&rd.dec);
	EVP_MD_CTX_free(rd.md);
	EVP_MD_CTX_free(rd.flash_md);
	if (rd.zbuf)
		OPENSSL_cleanse(rd.zbuf, READ_CHUNK); /* plaintext */
	free(rd.ahead);
	free(rd.zbuf);
	free(buf);
	free(v);
	if (fd >= 0)
		close(fd);
	return rc;
}

bool ota_package_report_has_encrypted(const struct ota_package_report *r)
{
	for (size_t i = 0; i < r->n_images; i++)
		if (r->images[i].encrypted)
			return true;
	return false;
}

bool ota_package_report_has_patch(const struct ota_package_report *r)
{
	for (size_t i = 0; i < r->n_images; i++)
		if (r->images[i].compression == OTAPKG_COMP_PATCH)
			return true;
	return false;
}

void ota_package_report_clear(struct ota_package_report *r)
{
	ota_package_region_free(&r->region);
	for (size_t i = 0; i < r->n_sigs; i++) {
		free(r->sigs[i].trust);
		r->sigs[i].trust = NULL;
	}
}

static json_t *hex_json(const uint8_t *b, size_t n)
{
	char hex[2 * 64 + 1];

	ota_hex_encode(hex, b, n);
	return json_string(hex);
}

static json_t *sig_json(const struct ota_package_sig_info *s)
{
	enum ota_sig_alg alg;
	json_t *o = json_object();

	json_object_set_new(o, "algorithm",
			    json_string(ota_package_sig_alg(&alg, s->alg_code)
					    ? "unknown"
					    : ota_sig_alg_name(alg)));
	json_object_set_new(o, "keyid", json_string(s->keyid));
	json_object_set_new(o, "certificates",
			    json_integer((json_int_t)s->n_certs));
	if (s->trust) {
		json_object_set_new(
		    o, "verdict",
		    json_string(ota_trust_verdict_name(s->trust->verdict)));
		json_object_set_new(o, "message",
				    json_string(s->trust->message));
		if (s->trust->has_chain)
			json_object_set_new(
			    o, "chain",
			    ota_chain_report_json(&s->trust->chain));
	} else {
		json_object_set_new(o, "verdict", json_null());
	}
	return o;
}

/*
 * A recorded time: NAME in RFC 3339, null when absent or out of range;
 * NAME_raw the count of seconds as recorded, as a decimal string (a u64
 * need not fit a JSON number), null when absent.
 */
static void time_json(json_t *o, const char *name, bool has, uint64_t t)
{
	char text[OTA_TIMESTAMP_TEXT_LEN], raw[24], key[32];
	bool in_range = has && ota_timestamp_describe(text, t);

	snprintf(raw, sizeof(raw), "%llu", (unsigned long long)t);
	json_object_set_new(o, name,
			    in_range ? json_string(text) : json_null());
	snprintf(key, sizeof(key), "%s_raw", name);
	json_object_set_new(o, key, has ? json_string(raw) : json_null());
}

/* null for a clear image; else the cipher, its recipients, the result. */
static json_t *encryption_json(
    const __typeof__(((struct ota_package_report *)0)->images[0]) *img)
{
	json_t *o, *keys;

	if (!img->encrypted)
		return json_null();
	o = json_object();
	keys = json_array();
	json_object_set_new(
	    o, "cipher",
	    json_string(img->key_len == 32 ? "aes-256-ctr" : "aes-128-ctr"));
	for (size_t k = 0; k < img->n_keys && k < OTA_PACKAGE_MAX_RECIPIENTS;
	     k++) {
		const char *name = ota_wrap_scheme_name(img->keys[k].scheme);

		json_array_append_new(keys,
				      json_pack("{s:s, s:s}", "scheme",
						name ? name : "unknown",
						"keyid", img->keys[k].keyid));
	}
	json_object_set_new(o, "recipients", keys);
	json_object_set_new(o, "decrypted", json_boolean(img->decrypted));
	return o;
}

/* The unprotected region's entries: where, what, for which signature. */
static json_t *region_json(const struct ota_package_region *reg)
{
	json_t *o = json_object(), *entries = json_array();

	for (size_t i = 0; i < reg->n; i++) {
		const struct ota_region_entry *e = &reg->entries[i];
		json_t *j = json_object();
		const char *type = e->type == OTA_REGION_TIMESTAMP ? "timestamp"
				   : e->type == OTA_REGION_OCSP    ? "ocsp"
								: "root_record";

		json_object_set_new(j, "type", json_string(type));
		json_object_set_new(j, "offset",
				    json_integer((json_int_t)e->offset));
		json_object_set_new(j, "length",
				    json_integer((json_int_t)e->len));
		json_object_set_new(j, "signature",
				    e->type == OTA_REGION_ROOT_RECORD
					? json_null()
					: json_integer(e->sig_index));
		json_object_set_new(j, "certificate",
				    e->type == OTA_REGION_OCSP
					? json_integer(e->cert_index)
					: json_null());
		json_array_append_new(entries, j);
	}
	json_object_set_new(o, "size", json_integer(reg->size));
	json_object_set_new(o, "entries", entries);
	return o;
}

json_t *ota_package_report_json(const struct ota_package_report *r)
{
	json_t *o = json_object(), *hw = json_array(), *deps = json_array();
	json_t *imgs = json_array(), *sigs = json_array(), *hdr = json_object();

	json_object_set_new(hdr, "format_version",
			    json_integer(r->format_version));
	json_object_set_new(
	    hdr, "region_digest",
	    json_string(ota_digest_alg_name(digest_of(r->region_digest_alg))));
	json_object_set_new(hdr, "protected_size",
			    json_integer(r->protected_size));
	json_object_set_new(hdr, "signature_block_size",
			    json_integer(r->sigblock_size));
	json_object_set_new(hdr, "alignment", json_integer(r->alignment));
	json_object_set_new(hdr, "total_size",
			    json_integer((json_int_t)r->total_size));
	for (size_t i = 0; i < r->n_hardware; i++)
		json_array_append_new(hw, json_string(r->hardware[i]));
	for (size_t i = 0; i < r->n_deps; i++)
		json_array_append_new(deps, json_pack("{s:s, s:s}", "name",
						      r->dep_names[i], "range",
						      r->dep_ranges[i]));
	for (size_t i = 0; i < r->n_images; i++) {
		const __typeof__(r->images[0]) *img = &r->images[i];
		json_t *j = json_object();
		char addr[19];

		snprintf(addr, sizeof(addr), "0x%08llx",
			 (unsigned long long)img->load_address);
		json_object_set_new(j, "name", json_string(img->name));
		json_object_set_new(j, "kind", json_string(img->kind));
		json_object_set_new(j, "compression",
				    json_string(ota_package_compression_name(
					img->compression)));
		json_object_set_new(j, "offset",
				    json_integer((json_int_t)img->offset));
		json_object_set_new(j, "stored_size",
				    json_integer((json_int_t)img->stored_size));
		json_object_set_new(j, "size",
				    json_integer((json_int_t)img->size));
		json_object_set_new(j, "load_address",
				    img->has_load_address ? json_string(addr)
							  : json_null());
		json_object_set_new(j, "digest_algorithm",
				    json_string(ota_digest_alg_name(
					digest_of(img->digest_alg))));
		json_object_set_new(j, "digest",
				    hex_json(img->digest, img->digest_len));
		json_object_set_new(
		    j, "stored_digest",
		    hex_json(img->stored_digest, img->digest_len));
		json_object_set_new(j, "stored_digest_ok",
				    json_boolean(img->stored_ok));
		json_object_set_new(j, "digest_ok",
				    json_boolean(img->flashed_ok));
		if (img->has_base) {
			char ratio[32];

			snprintf(ratio, sizeof(ratio), "%.4f",
				 (double)img->stored_size / (double)img->size);
			json_object_set_new(
			    j, "base",
			    json_pack(
				"{s:I, s:o}", "size",
				(json_int_t)img->base_size, "digest",
				hex_json(img->base_digest, img->digest_len)));
			json_object_set_new(j, "patch_ratio",
					    json_real(atof(ratio)));
		} else {
			json_object_set_new(j, "base", json_null());
			json_object_set_new(j, "patch_ratio", json_null());
		}
		json_object_set_new(j, "rebuilt", json_boolean(img->rebuilt));
		json_object_set_new(j, "encryption", encryption_json(img));
		json_array_append_new(imgs, j);
	}
	for (size_t i = 0; i < r->n_sigs; i++)
		json_array_append_new(sigs, sig_json(&r->sigs[i]));
	json_object_set_new(o, "format", json_string("otatool-package"));
	json_object_set_new(o, "file_size",
			    json_integer((json_int_t)r->file_size));
	json_object_set_new(o, "header", hdr);
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "version", json_string(r->version));
	json_object_set_new(o, "security_counter",
			    json_integer(r->security_counter));
	if (r->has_bootloader_min) {
		char b[40];

		snprintf(b, sizeof(b), "%u.%u.%u", r->bootloader_min[0],
			 r->bootloader_min[1], r->bootloader_min[2]);
		json_object_set_new(o, "bootloader_min", json_string(b));
	} else {
		json_object_set_new(o, "bootloader_min", json_null());
	}
	json_object_set_new(o, "hardware", hw);
	json_object_set_new(o, "git_commit",
			    r->git_commit[0] ? json_string(r->git_commit)
					     : json_null());
	time_json(o, "build_time", r->has_build_time, r->build_time);
	time_json(o, "signing_time", r->has_signing_time, r->signing_time);
	json_object_set_new(o, "dependencies", deps);
	json_object_set_new(o, "images", imgs);
	json_object_set_new(o, "signatures", sigs);
	json_object_set_new(o, "unprotected_region", region_json(&r->region));
	json_object_set_new(o, "signature_checked",
			    json_boolean(r->signature_checked));
	json_object_set_new(o, "threshold", json_integer(r->threshold));
	json_object_set_new(o, "distinct_signers",
			    json_integer(r->distinct_signers));
	json_object_set_new(o, "trusted_signature",
			    r->trusted_sig >= 0 ? json_integer(r->trusted_sig)
						: json_null());
	json_object_set_new(
	    o, "status", json_string(r->status_name ? r->status_name : "ok"));
	json_object_set_new(o, "error",
			    r->error[0] ? json_string(r->error) : json_null());
	json_object_set_new(o, "error_offset",
			    r->error[0]
				? json_integer((json_int_t)r->error_offset)
				: json_null());
	return o;
}

int ota_package_report_to_json(char **out, size_t *len,
			       const struct ota_package_report *report)
{
	return ota_json_text(out, len, ota_package_report_json(report));
}
