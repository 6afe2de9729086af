/*
 * MCUboot signed images (the layout: man/otatool-mcuboot.5): a writer that
 * streams the payload once through a fixed buffer into the hash and the
 * output, and a verifier that reads an image once with bounded memory and
 * checks everything the bootloader does, plus what imgtool forgets.
 */
#include "otatool/mcuboot.h"
#include "json_priv.h"
#include "key_priv.h"
#include "otatool/cipher.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/hex.h"
#include "otatool/ihex.h"
#include "otatool/manifest.h"
#include "otatool/mcuboot_trailer.h"
#include "otatool/output.h"
#include "otatool/signer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

/* One read buffer for both directions; the payload never sits in memory. */
#define MCUBOOT_BUFSIZE (256u * 1024)

#define HDR_LEN             32
#define HDR_DEFAULT_SIZE    0x200
#define TLV_INFO_MAGIC      0x6907
#define TLV_PROT_INFO_MAGIC 0x6908
#define TLV_AREA_MAX        0xffffu /* an info header's u16 total length */

#define F_ENC_AES128 0x4u
#define F_ENC_AES256 0x8u
#define F_RAM_LOAD   0x20u
#define F_ROM_FIXED  0x100u

enum tlv_type {
	TLV_KEYHASH = 0x01,
	TLV_PUBKEY = 0x02,
	TLV_KEYID = 0x03,
	TLV_SHA256 = 0x10,
	TLV_SHA384 = 0x11,
	TLV_SHA512 = 0x12,
	TLV_RSA2048_PSS = 0x20,
	TLV_ECDSA224 = 0x21,
	TLV_ECDSA_SIG = 0x22,
	TLV_RSA3072_PSS = 0x23,
	TLV_ED25519 = 0x24,
	TLV_SIG_PURE = 0x25,
	TLV_ENC_RSA2048 = 0x30,
	TLV_ENC_KW = 0x31,
	TLV_ENC_EC256 = 0x32,
	TLV_ENC_X25519 = 0x33,
	TLV_ENC_X25519_SHA512 = 0x34,
	TLV_DEPENDENCY = 0x40,
	TLV_SEC_CNT = 0x50,
};

#define SEC_CNT_LEN    4
#define DEPENDENCY_LEN 12

static uint64_t align_up(uint64_t n, uint64_t align)
{
	return (n + align - 1) & ~(align - 1);
}

/*
 * The image trailer (mcuboot_trailer.c) in the options' mode. An
 * encrypted image's trailer keeps both slots' content keys: MCUboot's
 * BOOT_ENC_KEY_SIZE, 16 or 32 for AES-256 (imgtool counts 16 either way,
 * so the fit check here is the stricter one).
 */
static struct ota_mcuboot_trailer_opts
trailer_opts(const struct ota_mcuboot_opts *o, uint32_t align,
	     unsigned enc_bits)
{
	struct ota_mcuboot_trailer_opts t = {
		.align = align,
		.max_align = o->max_align,
		.max_sectors = o->max_sectors,
		.overwrite_only = o->overwrite_only,
		.enc_keylen = enc_bits / 8,
	};

	return t;
}

/* AES-CTR works on 16-byte blocks; imgtool pads an encrypted payload. */
#define ENC_PAD 16

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static void put_version(uint8_t *p, const struct ota_mcuboot_version *v)
{
	p[0] = v->major;
	p[1] = v->minor;
	put16(p + 2, v->revision);
	put32(p + 4, v->build);
}

static void get_version(struct ota_mcuboot_version *v, const uint8_t *p)
{
	v->major = p[0];
	v->minor = p[1];
	v->revision = get16(p + 2);
	v->build = get32(p + 4);
}

bool ota_mcuboot_is_image(const uint8_t *head, size_t len)
{
	return len >= 4 && get32(head) == OTA_MCUBOOT_MAGIC;
}

int ota_mcuboot_version_from_semver(struct ota_mcuboot_version *out,
				    const struct ota_semver *v,
				    int64_t build_number)
{
	char text[3 * 21 + 2 * (OTA_SEMVER_MAX + 1) + 8];
	uint64_t build = 0;

	if (ota_semver_format(text, sizeof(text), v))
		snprintf(text, sizeof(text), "%" PRIu64 ".%" PRIu64 ".%" PRIu64,
			 v->major, v->minor, v->patch);
	if (v->pre[0])
		return ota_error(OTA_EINPUT,
				 "version %s: MCUboot versions cannot express "
				 "a pre-release (\"-%s\"); use a release "
				 "version",
				 text, v->pre);
	if (v->major > UINT8_MAX)
		return ota_error(OTA_EINPUT,
				 "version %s: major %" PRIu64
				 " does not fit MCUboot's 8-bit major (0..255)",
				 text, v->major);
	if (v->minor > UINT8_MAX)
		return ota_error(OTA_EINPUT,
				 "version %s: minor %" PRIu64
				 " does not fit MCUboot's 8-bit minor (0..255)",
				 text, v->minor);
	if (v->patch > UINT16_MAX)
		return ota_error(OTA_EINPUT,
				 "version %s: patch %" PRIu64
				 " does not fit MCUboot's 16-bit revision "
				 "(0..65535)",
				 text, v->patch);
	if (build_number >= 0) {
		if ((uint64_t)build_number > UINT32_MAX)
			return ota_error(OTA_EINPUT,
					 "build number %" PRId64
					 " does not fit MCUboot's 32-bit "
					 "build field (0..4294967295)",
					 build_number);
		build = (uint64_t)build_number;
	} else if (v->build[0] && strlen(v->build) <= 10 &&
		   strspn(v->build, "0123456789") == strlen(v->build)) {
		build = strtoull(v->build, NULL, 10);
		if (build > UINT32_MAX)
			build = 0;
	}
	out->major = (uint8_t)v->major;
	out->minor = (uint8_t)v->minor;
	out->revision = (uint16_t)v->patch;
	out->build = (uint32_t)build;
	return 0;
}

/*
 * How MCUboot pairs a key with its hash and signature TLVs: P-256 and
 * Ed25519 sign SHA-256, P-384 SHA-384, RSA-2048/3072 RSA-PSS over SHA-256.
 */
struct mcuboot_alg {
	enum ota_sig_alg sig;
	enum ota_digest_alg hash;
	uint16_t hash_tlv;
	uint16_t sig_tlv;
	const char *name;
};

static int mcuboot_alg(struct mcuboot_alg *out, enum ota_sig_alg sig,
		       EVP_PKEY *pub, int code, const char *who)
{
	int bits;

	out->sig = sig;
	out->hash = OTA_DIGEST_SHA256;
	out->hash_tlv = TLV_SHA256;
	switch (sig) {
	case OTA_SIG_ECDSA_P256_SHA256:
		out->sig_tlv = TLV_ECDSA_SIG;
		out->name = "ECDSA P-256";
		return 0;
	case OTA_SIG_ECDSA_P384_SHA384:
		out->hash = OTA_DIGEST_SHA384;
		out->hash_tlv = TLV_SHA384;
		out->sig_tlv = TLV_ECDSA_SIG;
		out->name = "ECDSA P-384";
		return 0;
	case OTA_SIG_ED25519:
		out->sig_tlv = TLV_ED25519;
		out->name = "Ed25519";
		return 0;
	case OTA_SIG_RSA_PKCS1_SHA256:
		return ota_error(
		    code,
		    "%s: RSA PKCS#1 v1.5 signatures cannot be "
		    "verified by MCUboot, which takes RSA-PSS "
		    "only (do not select PKCS#1 v1.5 for this key)",
		    who);
	case OTA_SIG_RSA_PSS_SHA256:
		bits = EVP_PKEY_get_bits(pub);
		if (bits == 2048) {
			out->sig_tlv = TLV_RSA2048_PSS;
			out->name = "RSA-2048";
			return 0;
		}
		if (bits == 3072) {
			out->sig_tlv = TLV_RSA3072_PSS;
			out->name = "RSA-3072";
			return 0;
		}
		return ota_error(code,
				 "%s: RSA-%d key: MCUboot verifies RSA-2048 "
				 "and RSA-3072 only",
				 who, bits);
	}
	return ota_error(code, "%s: key type not supported by MCUboot", who);
}

/*
 * The public key bytes MCUboot hashes into KEYHASH and carries in PUBKEY:
 * PKCS#1 RSAPublicKey for RSA (i2d_PublicKey's type-specific encoding),
 * SubjectPublicKeyInfo for EC and Ed25519.
 */
static int mcuboot_key_der(uint8_t **der, size_t *len, EVP_PKEY *pub)
{
	unsigned char *p = NULL;
	int n = EVP_PKEY_is_a(pub, "RSA") ? i2d_PublicKey(pub, &p)
					  : i2d_PUBKEY(pub, &p);

	ERR_clear_error();
	if (n <= 0)
		return ota_error(OTA_EINTERNAL, "cannot encode public key");
	*der = p;
	*len = (size_t)n;
	return 0;
}

static const EVP_MD *evp_md(enum ota_digest_alg alg)
{
	return alg == OTA_DIGEST_SHA384 ? EVP_sha384() : EVP_sha256();
}

static int hash_update(EVP_MD_CTX *md, const void *data, size_t len)
{
	if (!md || len == 0)
		return 0;
	return EVP_DigestUpdate(md, data, len)
		   ? 0
		   : ota_error(OTA_EINTERNAL, "digest failed");
}

static int hash_final(struct ota_digest *out, EVP_MD_CTX *md,
		      enum ota_digest_alg alg)
{
	unsigned int n = 0;

	if (!EVP_DigestFinal_ex(md, out->bytes, &n))
		return ota_error(OTA_EINTERNAL, "digest failed");
	out->alg = alg;
	out->len = n;
	return 0;
}

/* Reads up to len bytes, retrying on EINTR; returns the count or -1. */
static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * Opens a regular file for one front-to-back read, through fileio: a FIFO
 * or device is refused at once, never waited on. Only st_size is filled.
 */
static int open_regular(int *fd, struct stat *st, const char *path)
{
	uint64_t size;
	int rc;

	if ((rc = ota_file_open_regular(fd, &size, path)))
		return rc;
	memset(st, 0, sizeof(*st));
	st->st_size = (off_t)size;
	(void)posix_fadvise(*fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

/* ---- writing ---------------------------------------------------------- */

/* The protected TLV area: SEC_CNT, then DEPENDENCY entries. */
#define PROT_MAX                                                               \
	(4 + 4 + SEC_CNT_LEN + OTA_MCUBOOT_MAX_DEPS * (4 + DEPENDENCY_LEN))

static size_t build_protected(uint8_t *p, const struct ota_mcuboot_opts *o)
{
	size_t n = 4;

	if (!o->has_security_counter && o->n_deps == 0)
		return 0;
	if (o->has_security_counter) {
		put16(p + n, TLV_SEC_CNT);
		put16(p + n + 2, SEC_CNT_LEN);
		put32(p + n + 4, o->security_counter);
		n += 4 + SEC_CNT_LEN;
	}
	for (size_t i = 0; i < o->n_deps; i++) {
		put16(p + n, TLV_DEPENDENCY);
		put16(p + n + 2, DEPENDENCY_LEN);
		p[n + 4] = o->deps[i].image_id;
		memset(p + n + 5, 0, 3);
		put_version(p + n + 8, &o->deps[i].min_version);
		n += 4 + DEPENDENCY_LEN;
	}
	put16(p, TLV_PROT_INFO_MAGIC);
	put16(p + 2, (uint16_t)n);
	return n;
}

static int check_opts(const struct ota_mcuboot_opts *o, uint16_t *hdr_size,
		      uint32_t *align)
{
	struct ota_mcuboot_trailer_opts t;
	int rc;

	*hdr_size = o->header_size ? o->header_size : HDR_DEFAULT_SIZE;
	*align = o->align ? o->align : 1;
	if (*hdr_size < HDR_LEN)
		return ota_error(OTA_EINPUT,
				 "header size %u: MCUboot needs at least %d "
				 "bytes",
				 *hdr_size, HDR_LEN);
	if (*align > 32 || (*align & (*align - 1)))
		return ota_error(OTA_EINPUT,
				 "alignment %" PRIu32
				 ": flash write alignment must be 1, 2, 4, 8, "
				 "16 or 32",
				 *align);
	if (o->erased_value != 0xff && o->erased_value != 0)
		return ota_error(OTA_EINPUT,
				 "erased value 0x%02x: flash erases to 0xff "
				 "or 0",
				 o->erased_value);
	if (o->rom_fixed && !o->has_load_address)
		return ota_error(OTA_EINPUT,
				 "ROM_FIXED needs the address the image is "
				 "built for (load address)");
	if (o->n_deps > OTA_MCUBOOT_MAX_DEPS)
		return ota_error(OTA_EINPUT,
				 "%zu dependencies: at most %d fit an image",
				 o->n_deps, OTA_MCUBOOT_MAX_DEPS);
	t = trailer_opts(o, *align, 0);
	if ((rc = ota_mcuboot_trailer_check(&t, NULL)))
		return rc;
	if ((o->pad || o->confirm || o->test) && o->slot_size == 0)
		return ota_error(OTA_EUSAGE,
				 "padding to the slot (--pad, --confirm, "
				 "--test) needs the slot size (--slot-size)");
	return 0;
}

/* padding: the header area after the 32 bytes (erased, or the zeros an
 * image reserved). */
static void build_header(uint8_t *h, const struct ota_mcuboot_opts *o,
			 uint8_t padding, uint16_t hdr_size, uint16_t prot_size,
			 uint32_t img_size, unsigned enc_bits)
{
	uint32_t flags = 0;

	memset(h, padding, hdr_size);
	if (o->has_load_address)
		flags = o->rom_fixed ? F_ROM_FIXED : F_RAM_LOAD;
	if (enc_bits)
		flags |= enc_bits == 256 ? F_ENC_AES256 : F_ENC_AES128;
	put32(h, OTA_MCUBOOT_MAGIC);
	put32(h + 4, o->has_load_address ? o->load_address : 0);
	put16(h + 8, hdr_size);
	put16(h + 10, prot_size);
	put32(h + 12, img_size);
	put32(h + 16, flags);
	put_version(h + 20, &o->version);
	put32(h + 28, 0);
}

/*
 * Checks the slot fit before anything is read: the image aligned to the
 * write size, then the trailer of the mode (mcuboot_trailer.c).
 */
static int check_slot(uint64_t total, uint32_t align,
		      const struct ota_mcuboot_opts *o, unsigned enc_bits)
{
	struct ota_mcuboot_trailer_opts t = trailer_opts(o, align, enc_bits);
	uint64_t need;
	uint32_t trailer;

	if (o->slot_size == 0)
		return 0;
	trailer = ota_mcuboot_trailer_size(&t);
	need = align_up(total, align) + trailer;
	if (need > o->slot_size)
		return ota_error(OTA_EINPUT,
				 "image of %" PRIu64 " bytes (%" PRIu64
				 " aligned to %" PRIu32 ") plus MCUboot's "
				 "%" PRIu32 "-byte image trailer (%s) needs "
				 "%" PRIu64 " bytes: %" PRIu64 " more than the "
				 "slot size %" PRIu32,
				 total, align_up(total, align), align, trailer,
				 o->overwrite_only ? "overwrite-only"
						   : "swap status and flags",
				 need, need - o->slot_size, o->slot_size);
	return 0;
}

/* Where the image goes: the output file, or HEX records into it. */
struct sink {
	struct ota_output *out;
	bool hex;
	struct ota_ihex_writer w;
	uint64_t base;    /* HEX: the address of the image's first byte */
	uint64_t written; /* bytes of the image so far */
};

static int sink_output(void *ctx, const void *text, size_t len)
{
	return ota_output_write(ctx, text, len);
}

static int sink_write(struct sink *k, const void *data, size_t len)
{
	int rc =
	    k->hex ? ota_ihex_writer_put(&k->w, k->base + k->written, data, len)
		   : ota_output_write(k->out, data, len);

	if (rc == 0)
		k->written += len;
	return rc;
}

/* The erased value up to offset end of the image. */
static int sink_fill(struct sink *k, uint8_t *buf, uint8_t erased, uint64_t end)
{
	int rc;

	memset(buf, erased, MCUBOOT_BUFSIZE);
	while (k->written < end) {
		size_t n = end - k->written < MCUBOOT_BUFSIZE
			       ? (size_t)(end - k->written)
			       : MCUBOOT_BUFSIZE;

		if ((rc = sink_write(k, buf, n)))
			return rc;
	}
	return 0;
}

/*
 * imgtool --pad: the erased value to the end of the slot, the boot magic
 * in its last 16 bytes and, with --confirm outside overwrite-only mode,
 * image_ok = 0x01. Into HEX, as imgtool writes it: no fill, only the
 * image_ok field (--confirm or --test) and the magic at their addresses.
 */
static int pad_slot(struct sink *k, const struct ota_mcuboot_opts *o,
		    uint32_t align, uint8_t *buf)
{
	uint8_t magic[OTA_MCUBOOT_BOOT_MAGIC_LEN], flag = 0x01;
	uint64_t slot = o->slot_size, magic_at = slot - sizeof(magic), ok_at;
	uint32_t max_align;
	bool flag_field = (o->confirm || o->test) && !o->overwrite_only;
	int rc;

	max_align = o->max_align ? o->max_align : align > 8 ? align : 8;
	ok_at = slot - ota_mcuboot_image_ok_from_end(max_align);
	ota_mcuboot_boot_magic(magic, max_align);
	if (k->hex) {
		memset(buf, o->erased_value, max_align);
		if (o->confirm)
			buf[0] = 0x01;
		if (flag_field && (rc = ota_ihex_writer_put(
				       &k->w, k->base + ok_at, buf, max_align)))
			return rc;
		return ota_ihex_writer_put(&k->w, k->base + magic_at, magic,
					   sizeof(magic));
	}
	if (o->confirm && !o->overwrite_only &&
	    ((rc = sink_fill(k, buf, o->erased_value, ok_at)) ||
	     (rc = sink_write(k, &flag, 1))))
		return rc;
	if ((rc = sink_fill(k, buf, o->erased_value, magic_at)))
		return rc;
	return sink_write(k, magic, sizeof(magic));
}

/*
 * Streams the payload into the hash (plaintext) and the output (through
 * ctr when it encrypts), then pad zero bytes, and makes sure the file
 * still has the size it had when the header was made.
 */
static int copy_payload(struct sink *o, EVP_MD_CTX *md, struct ota_ctr *ctr,
			int fd, uint8_t *buf, const char *path,
			uint32_t img_size, size_t pad, ota_progress_fn progress,
			void *progress_ctx)
{
	uint8_t zeros[ENC_PAD] = { 0 };
	uint64_t done = 0;
	ssize_t n;
	int rc;

	while (done < img_size) {
		size_t want = img_size - done < MCUBOOT_BUFSIZE
				  ? (size_t)(img_size - done)
				  : MCUBOOT_BUFSIZE;

		n = read_full(fd, buf, want);
		if (n < 0)
			return ota_error(OTA_EINPUT,
					 "%s: read error at offset %" PRIu64
					 ": %s",
					 path, done, strerror(errno));
		if (n == 0)
			return ota_error(OTA_EINPUT,
					 "%s: shrank to %" PRIu64
					 " bytes while being read (was %" PRIu32
					 ")",
					 path, done, img_size);
		if ((rc = hash_update(md, buf, (size_t)n)) ||
		    (ctr && (rc = ota_ctr_update(ctr, buf, buf, (size_t)n))) ||
		    (rc = sink_write(o, buf, (size_t)n)))
			return rc;
		done += (uint64_t)n;
		if (progress)
			progress(progress_ctx, done, img_size);
	}
	if (pad && ((rc = hash_update(md, zeros, pad)) ||
		    (ctr && (rc = ota_ctr_update(ctr, zeros, zeros, pad))) ||
		    (rc = sink_write(o, zeros, pad))))
		return rc;
	n = read_full(fd, buf, 1);
	if (n < 0)
		return ota_error(OTA_EINPUT,
				 "%s: read error at offset %" PRIu64 ": %s",
				 path, done, strerror(errno));
	if (n > 0)
		return ota_error(OTA_EINPUT,
				 "%s: grew beyond %" PRIu64
				 " bytes while being read",
				 path, done);
	return 0;
}

/* Appends one TLV to an area being built. */
static size_t put_tlv(uint8_t *p, size_t off, uint16_t type, const void *v,
		      size_t len)
{
	put16(p + off, type);
	put16(p + off + 2, (uint16_t)len);
	memcpy(p + off + 4, v, len);
	return off + 4 + len;
}

/*
 * The content key of an image to encrypt, wrapped for its recipient into
 * wrapped[]; the AES-CTR stream is NULL for a --clear image. The key
 * itself is wiped at once: only the stream's key schedule keeps it.
 */
static int encrypt_setup(struct ota_ctr **ctr, uint8_t wrapped[OTA_WRAP_MAX],
			 size_t *wrapped_len, unsigned *bits,
			 const struct ota_mcuboot_opts *o)
{
	const struct ota_recipient *r = o->encrypt_to;
	struct ota_content_key k;
	int rc;

	*bits = o->encrypt_bits ? o->encrypt_bits : 128;
	if (*bits != 128 && *bits != 256)
		return ota_error(OTA_EUSAGE,
				 "AES-%u: MCUboot encrypts with AES-128 or "
				 "AES-256",
				 *bits);
	/* MCUboot's TLV 0x30 is named for, and sized as, RSA-2048. */
	if (ota_recipient_scheme(r) == OTA_WRAP_RSA_OAEP &&
	    ota_recipient_rsa_bits(r) != 2048)
		return ota_error(OTA_EKEY,
				 "%s: RSA-%u key: MCUboot unwraps with "
				 "RSA-2048 only (TLV 0x30 is 256 bytes)",
				 ota_recipient_name(r),
				 ota_recipient_rsa_bits(r));
	if ((rc = ota_content_key_generate(&k, *bits)) ||
	    (rc = ota_recipient_wrap(wrapped, wrapped_len, r, &k)) ||
	    (!o->encrypt_clear && (rc = ota_ctr_new(ctr, &k))))
		ota_error_wrap(rc, "%s", ota_recipient_name(r));
	ota_content_key_wipe(&k);
	return rc;
}

/* The first bytes looked at: a whole HEX record of 255 data bytes. */
#define SNIFF_LEN (OTA_IHEX_LINE_MAX + 2)

/*
 * The image to sign: the file itself, or, when its content is Intel HEX,
 * its bytes converted into an unlinked temporary file (r->input_hex).
 */
static int open_input(int *fd, uint64_t *size, struct ota_mcuboot_result *r,
		      const char *path)
{
	uint8_t head[SNIFF_LEN];
	struct ota_ihex_image ih;
	struct stat st;
	ssize_t n;
	int rc;

	if ((rc = open_regular(fd, &st, path)))
		return rc;
	*size = (uint64_t)st.st_size;
	n = pread(*fd, head, sizeof(head), 0);
	if (n <= 0 || !ota_ihex_detect(head, (size_t)n))
		return 0;
	close(*fd);
	if ((rc = ota_ihex_to_binary(fd, &ih, path)))
		return rc;
	r->input_hex = true;
	r->input_base = ih.base;
	*size = ih.size;
	return 0;
}

/*
 * Whether the header goes into the image's first hdr_size bytes: they
 * must all be zero (what imgtool demands without --pad-header), and a
 * payload must follow. The file is left at the payload.
 */
static int place_header(bool *reserved, int fd, uint64_t size,
			uint16_t hdr_size, enum ota_mcuboot_header_mode mode,
			const char *path, uint8_t *buf)
{
	ssize_t n = 0;
	size_t nonzero = 0;

	*reserved = false;
	if (mode == OTA_MCUBOOT_HEADER_PREPEND)
		return 0;
	if (size > hdr_size) {
		n = pread(fd, buf, hdr_size, 0);
		if (n != hdr_size)
			return ota_error(OTA_EINPUT, "%s: read error: %s", path,
					 n < 0 ? strerror(errno)
					       : "short read");
		while (nonzero < hdr_size && buf[nonzero] == 0)
			nonzero++;
		*reserved = nonzero == hdr_size;
	}
	if (mode == OTA_MCUBOOT_HEADER_RESERVED && !*reserved) {
		if (size <= hdr_size)
			return ota_error(OTA_EINPUT,
					 "%s: %" PRIu64 " bytes: no payload "
					 "after a reserved %u-byte header",
					 path, size, hdr_size);
		return ota_error(OTA_EINPUT,
				 "%s: offset %zu: byte 0x%02x: the first %u "
				 "bytes are not all zero, so the image "
				 "reserves no header (without --no-pad-header "
				 "one is prepended)",
				 path, nonzero, buf[nonzero], hdr_size);
	}
	if (*reserved && lseek(fd, hdr_size, SEEK_SET) != hdr_size)
		return ota_error(OTA_EINPUT, "%s: seek: %s", path,
				 strerror(errno));
	return 0;
}

/* Where HEX output starts: given, or where the input HEX put the image. */
static int hex_base(uint64_t *base, const struct ota_mcuboot_opts *o,
		    const struct ota_mcuboot_result *r, uint16_t hdr_size,
		    uint64_t span, const char *path)
{
	if (o->has_hex_addr)
		*base = o->hex_addr;
	else if (!r->input_hex)
		return ota_error(OTA_EUSAGE,
				 "%s: a raw binary has no address: HEX output "
				 "needs --hex-addr",
				 path);
	else if (r->header_reserved)
		*base = r->input_base;
	else if (r->input_base < hdr_size)
		return ota_error(OTA_EINPUT,
				 "%s: the HEX data starts at 0x%08" PRIx32
				 ", below the %u-byte header prepended to it: "
				 "give --hex-addr (or reserve the header)",
				 path, r->input_base, hdr_size);
	else
		*base = r->input_base - hdr_size;
	if (*base + span > (uint64_t)UINT32_MAX + 1)
		return ota_error(OTA_EINPUT,
				 "%s: %" PRIu64 " bytes at 0x%08" PRIx64
				 " run past the 4 GiB HEX address space",
				 path, span, *base);
	return 0;
}

int ota_mcuboot_write(const char *out_path, const char *image_path,
		      const struct ota_signers *signer,
		      const struct ota_mcuboot_opts *opts,
		      ota_progress_fn progress, void *progress_ctx)
{
	struct ota_key *key = ota_signers_key(signer, 0);
	struct sink sink = { 0 };
	struct ota_mcuboot_result r = { 0 };
	struct ota_ctr *ctr = NULL;
	EVP_MD_CTX *md = NULL;
	uint8_t *buf = NULL, *der = NULL, *sig = NULL, *unprot = NULL;
	uint8_t prot[PROT_MAX], wrapped[OTA_WRAP_MAX];
	struct mcuboot_alg alg;
	struct ota_digest digest, keyhash;
	size_t der_len = 0, sig_len = 0, prot_len, key_len, unprot_max, n;
	size_t wrapped_len = 0, pad = 0;
	unsigned enc_bits = 0;
	uint16_t hdr_size;
	uint32_t align;
	uint64_t total_max, img_size, in_size, payload_size;
	bool padded;
	int fd = -1, rc, sig_max;

	if (!opts)
		return ota_error(OTA_EINTERNAL, "mcuboot: no options");
	if (ota_signers_count(signer) != 1)
		return ota_error(OTA_EUSAGE,
				 "an MCUboot image carries one signature: give "
				 "one --key");
	if ((rc = check_opts(opts, &hdr_size, &align)))
		return rc;
	if ((rc = mcuboot_alg(&alg, ota_key_alg(key), ota_key_pkey(key),
			      OTA_EKEY, ota_key_ref(key))))
		return rc;
	if (opts->encrypt_to &&
	    (rc = encrypt_setup(&ctr, wrapped, &wrapped_len, &enc_bits, opts)))
		return rc;
	if ((rc = mcuboot_key_der(&der, &der_len, ota_key_pkey(key))))
		goto out;
	if ((rc = ota_digest_buffer(&keyhash, alg.hash, der, der_len)))
		goto out;
	key_len = opts->public_key_tlv ? der_len : keyhash.len;
	sig_max = EVP_PKEY_get_size(ota_key_pkey(key));
	if (sig_max <= 0) {
		rc = ota_error(OTA_EKEY, "%s: cannot size its signatures",
			       ota_key_ref(key));
		goto out;
	}
	prot_len = build_protected(prot, opts);
	unprot_max = 4 + (4 + ota_digest_alg_size(alg.hash)) + (4 + key_len) +
		     (4 + (size_t)sig_max) + (enc_bits ? 4 + wrapped_len : 0);
	if (unprot_max > TLV_AREA_MAX || key_len > UINT16_MAX) {
		rc = ota_error(OTA_EKEY,
			       "%s: public key too large for an MCUboot TLV",
			       ota_key_ref(key));
		goto out;
	}

	if ((rc = open_input(&fd, &in_size, &r, image_path)))
		goto out;
	if (!(buf = malloc(MCUBOOT_BUFSIZE))) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = place_header(&r.header_reserved, fd, in_size, hdr_size,
			       opts->header_mode, image_path, buf)))
		goto out;
	payload_size = r.header_reserved ? in_size - hdr_size : in_size;
	img_size = payload_size;
	if (enc_bits && img_size % ENC_PAD)
		pad = ENC_PAD - (size_t)(img_size % ENC_PAD);
	img_size += pad;
	if (payload_size == 0 || img_size > UINT32_MAX) {
		rc = ota_error(OTA_EINPUT,
			       "%s: %s (MCUboot's img_size is a 32-bit field "
			       "and an image needs a payload)",
			       image_path,
			       payload_size == 0 ? "empty file"
						 : "larger than 4 GiB - 1");
		goto out;
	}
	/*
	 * The fit check takes the largest signature the key can make, so
	 * whether an image fits never depends on an ECDSA signature's
	 * DER length happening to be a byte shorter.
	 */
	total_max = hdr_size + img_size + prot_len + unprot_max;
	if (total_max > UINT32_MAX) {
		rc = ota_error(OTA_EINPUT,
			       "%s: image with header and TLVs exceeds "
			       "MCUboot's 32-bit offsets",
			       image_path);
		goto out;
	}
	if ((rc = check_slot(total_max, align, opts, enc_bits))) {
		ota_error_wrap(rc, "%s", image_path);
		goto out;
	}
	padded = opts->pad || opts->confirm || opts->test;
	if (opts->hex_output &&
	    (rc = hex_base(&sink.base, opts, &r, hdr_size,
			   padded ? opts->slot_size : total_max, image_path)))
		goto out;

	unprot = malloc(unprot_max);
	md = EVP_MD_CTX_new();
	if (!unprot || !md || !EVP_DigestInit_ex(md, evp_md(alg.hash), NULL)) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = ota_output_open(&sink.out, out_path, 0644, 0)))
		goto out;
	sink.hex = opts->hex_output;
	ota_ihex_writer_init(&sink.w, sink_output, sink.out);
	build_header(buf, opts, r.header_reserved ? 0 : opts->erased_value,
		     hdr_size, (uint16_t)prot_len, (uint32_t)img_size,
		     enc_bits);
	if ((rc = hash_update(md, buf, hdr_size)) ||
	    (rc = sink_write(&sink, buf, hdr_size)) ||
	    (rc = copy_payload(&sink, md, ctr, fd, buf, image_path,
			       (uint32_t)payload_size, pad, progress,
			       progress_ctx)) ||
	    (rc = hash_update(md, prot, prot_len)) ||
	    (rc = sink_write(&sink, prot, prot_len)) ||
	    (rc = hash_final(&digest, md, alg.hash)) ||
	    (rc = ota_key_sign_digest(&sig, &sig_len, key, &digest)))
		goto out;
	if (sig_len > (size_t)sig_max) {
		rc = ota_error(OTA_EKEY,
			       "%s: signature of %zu bytes, more than the "
			       "%d the key announced",
			       ota_key_ref(key), sig_len, sig_max);
		goto out;
	}

	/* imgtool's order: hash, key, signature, then the wrapped key. */
	n = put_tlv(unprot, 4, alg.hash_tlv, digest.bytes, digest.len);
	n = opts->public_key_tlv
		? put_tlv(unprot, n, TLV_PUBKEY, der, der_len)
		: put_tlv(unprot, n, TLV_KEYHASH, keyhash.bytes, keyhash.len);
	n = put_tlv(unprot, n, alg.sig_tlv, sig, sig_len);
	if (enc_bits)
		n = put_tlv(unprot, n,
			    (uint16_t)ota_recipient_scheme(opts->encrypt_to),
			    wrapped, wrapped_len);
	put16(unprot, TLV_INFO_MAGIC);
	put16(unprot + 2, (uint16_t)n);
	if ((rc = sink_write(&sink, unprot, n)))
		goto out;
	r.img_size = (uint32_t)img_size;
	r.size = padded ? opts->slot_size : sink.written;
	if (padded) {
		struct ota_mcuboot_trailer_opts t =
		    trailer_opts(opts, align, enc_bits);

		r.trailer_size = ota_mcuboot_trailer_size(&t);
		if ((rc = pad_slot(&sink, opts, align, buf)))
			goto out;
	}
	if (sink.hex && (rc = ota_ihex_writer_finish(&sink.w)))
		goto out;
	r.output_hex = sink.hex;
	r.output_base = (uint32_t)sink.base;
	rc = ota_output_commit(sink.out);
	sink.out = NULL;
	if (rc == 0 && opts->result)
		*opts->result = r;
out:
	ota_output_abort(sink.out);
	ota_ctr_free(ctr);
	EVP_MD_CTX_free(md);
	if (fd >= 0)
		close(fd);
	OPENSSL_free(der);
	free(sig);
	free(unprot);
	free(buf);
	return rc;
}

/* ---- verifying -------------------------------------------------------- */

/*
 * The verifier reads the TLV areas first, at most protect_tlv_size +
 * 0xffff bytes from tlv_start, into `win` and parses them (an encrypted
 * image's key TLV is needed before its payload can be hashed), then
 * reads the file once from the start. The hash covers [0, hash_end);
 * bytes after the window can only be trailing padding, of which it keeps
 * statistics and the last TAIL_LEN bytes (where imgtool --pad puts the
 * boot magic and image_ok).
 */
#define TAIL_LEN 64

struct vstate {
	const char *path;
	uint64_t file_size;
	uint64_t tlv_start, hash_end, win_end, tail_start;
	uint8_t *win;
	uint8_t tail[TAIL_LEN];
	uint64_t first_not_ff, first_not_00; /* in [win_end, tail_start) */
	EVP_MD_CTX *md[2];                   /* SHA-256, SHA-384 */
	struct ota_digest computed[2];
	/*
	 * An encrypted image with its key: [body_start, tlv_start) is also
	 * decrypted into plainbuf and hashed so. Both hashes are kept, for
	 * a payload stored in the clear under the ENC flag.
	 */
	uint64_t body_start;
	struct ota_ctr *ctr;
	uint8_t *plainbuf;
	EVP_MD_CTX *md_plain[2];
	struct ota_digest plain[2];
	const struct ota_digest *image_digest; /* the one that matched */
	/* Found while parsing the unprotected area. */
	uint64_t tlv_end;
	uint64_t hash_off, key_off, sig_off, enc_off;
	uint16_t key_type, key_len, sig_len;
};

static int md_index(enum ota_digest_alg alg)
{
	return alg == OTA_DIGEST_SHA384 ? 1 : 0;
}

/* The hashes over [off, b) of the hashed range, decrypted too with ctr. */
static int consume_hashed(struct vstate *s, const uint8_t *buf, uint64_t off,
			  uint64_t b)
{
	uint64_t bs, be;
	int rc;

	for (int i = 0; i < 2; i++)
		if (s->md[i] && (rc = hash_update(s->md[i], buf, b - off)))
			return rc;
	if (!s->ctr)
		return 0;
	memcpy(s->plainbuf, buf, b - off);
	bs = off > s->body_start ? off : s->body_start;
	be = b < s->tlv_start ? b : s->tlv_start;
	if (bs < be && (rc = ota_ctr_update(s->ctr, s->plainbuf + (bs - off),
					    s->plainbuf + (bs - off), be - bs)))
		return rc;
	for (int i = 0; i < 2; i++)
		if (s->md_plain[i] &&
		    (rc = hash_update(s->md_plain[i], s->plainbuf, b - off)))
			return rc;
	return 0;
}

static int consume(struct vstate *s, const uint8_t *buf, uint64_t off,
		   size_t len)
{
	uint64_t end = off + len, a, b;
	int rc;

	if (off < s->hash_end) {
		b = end < s->hash_end ? end : s->hash_end;
		if ((rc = consume_hashed(s, buf, off, b)))
			return rc;
	}
	a = off > s->win_end ? off : s->win_end;
	b = end < s->tail_start ? end : s->tail_start;
	for (uint64_t i = a; i < b; i++) {
		uint8_t c = buf[i - off];

		if (c != 0xff && s->first_not_ff == UINT64_MAX)
			s->first_not_ff = i;
		if (c != 0 && s->first_not_00 == UINT64_MAX)
			s->first_not_00 = i;
	}
	a = off > s->tail_start ? off : s->tail_start;
	if (a < end)
		memcpy(s->tail + (a - s->tail_start), buf + (a - off), end - a);
	return 0;
}

/* A byte the verifier kept: in the TLV window or the tail. */
static uint8_t kept_byte(const struct vstate *s, uint64_t off)
{
	if (off >= s->tail_start)
		return s->tail[off - s->tail_start];
	return s->win[off - s->tlv_start];
}

static int verror(uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Structure errors: OTA_EVERIFY, "offset N: ...". */
static int verror(uint64_t off, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ota_error(OTA_EVERIFY, "offset %" PRIu64 ": %s", off, msg);
}

static int check_header(struct ota_mcuboot_info *info, const uint8_t *h,
			uint64_t file_size)
{
	uint32_t magic = get32(h);

	if (magic != OTA_MCUBOOT_MAGIC)
		return verror(0,
			      "magic 0x%08" PRIx32 " is not MCUboot's 0x%08x",
			      magic, OTA_MCUBOOT_MAGIC);
	info->load_address = get32(h + 4);
	info->header_size = get16(h + 8);
	info->protect_tlv_size = get16(h + 10);
	info->image_size = get32(h + 12);
	info->flags = get32(h + 16);
	get_version(&info->version, h + 20);
	if (info->header_size < HDR_LEN)
		return verror(8,
			      "hdr_size %u is smaller than the %d-byte header",
			      info->header_size, HDR_LEN);
	if (info->header_size > file_size)
		return verror(8,
			      "hdr_size %u runs past the end of the file "
			      "(%" PRIu64 " bytes)",
			      info->header_size, file_size);
	if ((uint64_t)info->header_size + info->image_size > file_size)
		return verror(12,
			      "img_size %" PRIu32 " after the %u-byte header "
			      "runs past the end of the file (%" PRIu64
			      " bytes)",
			      info->image_size, info->header_size, file_size);
	if (info->protect_tlv_size != 0 && info->protect_tlv_size < 4)
		return verror(10,
			      "protect_tlv_size %u is smaller than the 4-byte "
			      "TLV info header",
			      info->protect_tlv_size);
	if ((uint64_t)info->header_size + info->image_size +
		info->protect_tlv_size >
	    file_size)
		return verror(10,
			      "protect_tlv_size %u: the protected TLV area "
			      "runs past the end of the file (%" PRIu64
			      " bytes)",
			      info->protect_tlv_size, file_size);
	if ((info->flags & (F_ENC_AES128 | F_ENC_AES256)) ==
	    (F_ENC_AES128 | F_ENC_AES256))
		return verror(16,
			      "flags 0x%08" PRIx32 ": both ENCRYPTED_AES128 "
			      "and ENCRYPTED_AES256",
			      info->flags);
	info->enc_bits = info->flags & F_ENC_AES128   ? 128
			 : info->flags & F_ENC_AES256 ? 256
						      : 0;
	return 0;
}

/* Types that only mean something under the signature. */
static bool must_be_protected(uint16_t type)
{
	return type == TLV_SEC_CNT || type == TLV_DEPENDENCY ||
	       type == 0x60 /* BOOT_RECORD */ ||
	       (type >= 0x70 && type <= 0x73) /* DECOMP_* */ || type >= 0xa0;
}

static bool is_hash_key_or_sig(uint16_t type)
{
	return type == TLV_KEYHASH || type == TLV_PUBKEY ||
	       (type >= TLV_SHA256 && type <= TLV_SHA512) ||
	       (type >= TLV_RSA2048_PSS && type <= TLV_SIG_PURE);
}

static int parse_protected(struct ota_mcuboot_info *info,
			   const struct vstate *s)
{
	const uint8_t *a = s->win;
	uint64_t base = s->tlv_start;
	uint16_t size = info->protect_tlv_size, magic, total;
	size_t off = 4;

	if (size == 0) {
		if (s->file_size - base >= 2 && get16(a) == TLV_PROT_INFO_MAGIC)
			return verror(base,
				      "protected TLV area present, but the "
				      "header's protect_tlv_size is 0");
		return 0;
	}
	magic = get16(a);
	total = get16(a + 2);
	if (magic != TLV_PROT_INFO_MAGIC)
		return verror(base,
			      "protected TLV info magic 0x%04x, expected "
			      "0x%04x (the header's protect_tlv_size is %u)",
			      magic, TLV_PROT_INFO_MAGIC, size);
	if (total != size)
		return verror(base + 2,
			      "protected TLV area length %u does not match "
			      "the header's protect_tlv_size %u",
			      total, size);
	while (off < size) {
		uint16_t type, len;

		if (size - off < 4)
			return verror(base + off,
				      "TLV header runs past the end of the "
				      "protected area (%zu bytes left)",
				      size - off);
		type = get16(a + off);
		len = get16(a + off + 2);
		if (len > size - off - 4)
			return verror(base + off + 2,
				      "TLV 0x%02x length %u runs past the end "
				      "of the protected area (%zu bytes left)",
				      type, len, size - off - 4);
		if (type == TLV_SEC_CNT) {
			if (len != SEC_CNT_LEN)
				return verror(base + off + 2,
					      "SEC_CNT length %u, expected %d",
					      len, SEC_CNT_LEN);
			if (info->has_security_counter)
				return verror(base + off, "second SEC_CNT TLV");
			info->has_security_counter = true;
			info->security_counter = get32(a + off + 4);
		} else if (type == TLV_DEPENDENCY) {
			struct ota_mcuboot_dep *d;

			if (len != DEPENDENCY_LEN)
				return verror(base + off + 2,
					      "DEPENDENCY length %u, expected "
					      "%d",
					      len, DEPENDENCY_LEN);
			if (info->n_deps == OTA_MCUBOOT_MAX_DEPS)
				return verror(base + off,
					      "more than %d DEPENDENCY TLVs",
					      OTA_MCUBOOT_MAX_DEPS);
			d = &info->deps[info->n_deps++];
			d->image_id = a[off + 4];
			get_version(&d->min_version, a + off + 8);
		} else if (is_hash_key_or_sig(type)) {
			return verror(base + off,
				      "TLV 0x%02x (hash, key or signature) "
				      "inside the protected area",
				      type);
		}
		off += 4 + (size_t)len;
	}
	return 0;
}

static bool allowed_unprotected(uint16_t type)
{
	return type == TLV_KEYHASH || type == TLV_PUBKEY || type == TLV_KEYID ||
	       (type >= TLV_SHA256 && type <= TLV_SHA512) ||
	       (type >= TLV_RSA2048_PSS && type <= TLV_SIG_PURE) ||
	       (type >= TLV_ENC_RSA2048 && type <= TLV_ENC_X25519_SHA512);
}

static int parse_unprotected_tlv(struct ota_mcuboot_info *info,
				 struct vstate *s, uint64_t at, uint16_t type,
				 uint16_t len)
{
	const uint8_t *v = s->win + (at + 4 - s->tlv_start);

	if (must_be_protected(type))
		return verror(at,
			      "TLV 0x%02x must be in the protected area (it "
			      "is not covered by the signature here)",
			      type);
	if (!allowed_unprotected(type))
		return verror(at,
			      "TLV type 0x%02x is not allowed in the "
			      "unprotected area (MCUboot rejects it)",
			      type);
	if (type >= TLV_SHA256 && type <= TLV_SHA512) {
		size_t want = type == TLV_SHA384 ? 48 : 32;

		if (s->hash_off)
			return verror(at, "second image hash TLV");
		if (type == TLV_SHA512)
			return verror(at, "SHA-512 image hash (TLV 0x12) is "
					  "not supported");
		if (len != want)
			return verror(
			    at + 2, "%s hash TLV length %u, expected %zu",
			    type == TLV_SHA384 ? "SHA-384" : "SHA-256", len,
			    want);
		s->hash_off = at;
		info->hash_alg =
		    type == TLV_SHA384 ? OTA_DIGEST_SHA384 : OTA_DIGEST_SHA256;
		memcpy(info->hash, v, len);
	} else if (type == TLV_KEYHASH || type == TLV_PUBKEY) {
		if (s->key_off)
			return verror(at, "second KEYHASH/PUBKEY TLV");
		if (type == TLV_KEYHASH && len != 32 && len != 48)
			return verror(at + 2,
				      "KEYHASH length %u, expected 32 or 48",
				      len);
		if (len == 0)
			return verror(at + 2, "empty PUBKEY TLV");
		s->key_off = at;
		s->key_type = type;
		s->key_len = len;
		if (type == TLV_KEYHASH) {
			info->has_keyhash = true;
			memcpy(info->keyhash, v, len);
		} else {
			info->has_pubkey = true;
		}
	} else if (type >= TLV_RSA2048_PSS && type <= TLV_SIG_PURE) {
		if (s->sig_off)
			return verror(at, "second signature TLV");
		if (!s->key_off)
			return verror(at,
				      "signature TLV 0x%02x before the "
				      "KEYHASH/PUBKEY TLV naming its key",
				      type);
		if (len == 0)
			return verror(at + 2, "empty signature TLV");
		s->sig_off = at;
		s->sig_len = len;
		info->sig_type = type;
	} else if (type >= TLV_ENC_RSA2048 && type <= TLV_ENC_X25519_SHA512) {
		if (s->enc_off)
			return verror(at,
				      "second key TLV (0x%02x after 0x%02x)",
				      type, info->enc_tlv);
		s->enc_off = at;
		info->enc_tlv = type;
		info->enc_tlv_len = len;
	}
	return 0;
}

/*
 * The key TLV against the header's ENC flag: an encrypted image needs
 * one, of the length its scheme gives for the flag's key size (MCUboot
 * reads RSA-OAEP as RSA-2048). A key TLV without the flag is what MCUboot
 * ignores, and so is it here.
 */
static int check_key_tlv(const struct ota_mcuboot_info *info,
			 const struct vstate *s)
{
	enum ota_wrap_scheme sch;
	size_t want;

	if (!info->enc_bits)
		return 0;
	if (!s->enc_off)
		return verror(16,
			      "flags 0x%08" PRIx32 " say the payload is "
			      "encrypted (AES-%u), but no key TLV (0x30 to "
			      "0x34) carries its key",
			      info->flags, info->enc_bits);
	if (ota_wrap_scheme_of_tlv(&sch, info->enc_tlv))
		return ota_error_wrap(OTA_EVERIFY, "offset %" PRIu64,
				      s->enc_off);
	want = ota_wrap_len(sch, info->enc_bits / 8, 2048);
	if (info->enc_tlv_len != want)
		return verror(s->enc_off + 2,
			      "key TLV 0x%02x (%s) length %u, expected %zu "
			      "for an AES-%u key",
			      info->enc_tlv,
			      ota_wrap_scheme_name(info->enc_tlv),
			      info->enc_tlv_len, want, info->enc_bits);
	return 0;
}

static int parse_unprotected(struct ota_mcuboot_info *info, struct vstate *s)
{
	uint64_t base = s->hash_end, off;
	const uint8_t *a = s->win + (base - s->tlv_start);
	uint16_t magic, total;

	if (s->file_size - base < 4)
		return verror(base,
			      "file ends before the TLV info header (%" PRIu64
			      " bytes left)",
			      s->file_size - base);
	magic = get16(a);
	total = get16(a + 2);
	if (magic != TLV_INFO_MAGIC)
		return verror(base, "TLV info magic 0x%04x, expected 0x%04x%s",
			      magic, TLV_INFO_MAGIC,
			      magic == TLV_PROT_INFO_MAGIC
				  ? " (a protected area the header's "
				    "protect_tlv_size does not cover)"
				  : "");
	if (total < 4)
		return verror(base + 2,
			      "TLV area length %u is smaller than its info "
			      "header",
			      total);
	if (total > s->file_size - base)
		return verror(base + 2,
			      "TLV area length %u runs past the end of the "
			      "file (%" PRIu64 " bytes left)",
			      total, s->file_size - base);
	s->tlv_end = base + total;
	for (off = base + 4; off < s->tlv_end;) {
		uint16_t type, len;
		int rc;

		if (s->tlv_end - off < 4)
			return verror(off,
				      "TLV header runs past the end of the TLV "
				      "area (%" PRIu64 " bytes left)",
				      s->tlv_end - off);
		type = get16(s->win + (off - s->tlv_start));
		len = get16(s->win + (off + 2 - s->tlv_start));
		if (len > s->tlv_end - off - 4)
			return verror(off + 2,
				      "TLV 0x%02x length %u runs past the end "
				      "of the TLV area (%" PRIu64
				      " bytes left)",
				      type, len, s->tlv_end - off - 4);
		if ((rc = parse_unprotected_tlv(info, s, off, type, len)))
			return rc;
		off += 4 + (uint64_t)len;
	}
	if (!s->hash_off)
		return verror(base, "no image hash TLV (SHA256 0x10 or "
				    "SHA384 0x11)");
	if (info->has_keyhash &&
	    s->key_len != ota_digest_alg_size(info->hash_alg))
		return verror(s->key_off + 2,
			      "KEYHASH length %u does not match the %s image "
			      "hash",
			      s->key_len, ota_digest_alg_name(info->hash_alg));
	return 0;
}

/*
 * A padded image (imgtool --pad) continues after the TLVs with the erased
 * value up to the end of the slot, where the boot magic may sit, preceded
 * by image_ok (--confirm). Anything else after the TLVs is refused.
 */
static bool tail_magic(const struct vstate *s, uint32_t *max_align)
{
	struct ota_mcuboot_trailer t;

	if (s->file_size - s->tlv_end < OTA_MCUBOOT_BOOT_MAGIC_LEN ||
	    ota_mcuboot_trailer_parse(&t, s->tail,
				      s->file_size - s->tail_start))
		return false;
	*max_align = t.max_align;
	return t.magic == OTA_MCUBOOT_MAGIC_GOOD;
}

static int check_trailing(const struct vstate *s)
{
	uint64_t end = s->file_size, ok_at = UINT64_MAX, first, bad;
	uint32_t max_align;
	uint8_t erased;

	if (s->tlv_end == end)
		return 0;
	if (tail_magic(s, &max_align)) {
		end -= OTA_MCUBOOT_BOOT_MAGIC_LEN;
		ok_at = s->file_size - ota_mcuboot_image_ok_from_end(max_align);
		if (s->tlv_end == end)
			return 0;
	}
	first = s->tlv_end == ok_at ? s->tlv_end + 1 : s->tlv_end;
	if (first >= s->win_end && first < s->tail_start) {
		/* Not kept: the statistics say whether it was 0xff or 0. */
		if (s->first_not_ff != first)
			erased = 0xff;
		else if (s->first_not_00 != first)
			erased = 0;
		else
			return verror(first,
				      "trailing data after the TLV area (which "
				      "ends at offset %" PRIu64 "), not erased "
				      "padding",
				      s->tlv_end);
	} else {
		erased = kept_byte(s, first);
	}
	if (erased != 0xff && erased != 0)
		return verror(first,
			      "byte 0x%02x after the TLV area (which ends at "
			      "offset %" PRIu64 "): trailing data, not "
			      "erased padding",
			      erased, s->tlv_end);
	for (uint64_t off = s->tlv_end; off < end; off++) {
		uint8_t c;

		if (off >= s->win_end && off < s->tail_start) {
			bad =
			    erased == 0xff ? s->first_not_ff : s->first_not_00;
			if (bad != UINT64_MAX)
				return verror(bad,
					      "trailing byte after the TLV "
					      "area (which ends at offset "
					      "%" PRIu64 ") is not erased "
					      "padding 0x%02x",
					      s->tlv_end, erased);
			off = s->tail_start - 1;
			continue;
		}
		c = kept_byte(s, off);
		if (c == erased || (off == ok_at && c == 0x01))
			continue;
		return verror(off,
			      "byte 0x%02x after the TLV area (which ends at "
			      "offset %" PRIu64 ") is not erased padding "
			      "0x%02x",
			      c, s->tlv_end, erased);
	}
	return 0;
}

/* Finds the trusted key KEYHASH or PUBKEY names. */
static int find_trusted_key(struct ota_mcuboot_info *info,
			    const struct vstate *s,
			    const struct ota_mcuboot_policy *p)
{
	const uint8_t *v = s->win + (s->key_off + 4 - s->tlv_start);

	for (size_t i = 0; i < p->n_trusted; i++) {
		struct ota_digest h;
		uint8_t *der = NULL;
		size_t len = 0;
		bool match;
		int rc;

		if ((rc = mcuboot_key_der(&der, &len, p->trusted[i]->pkey)))
			return rc;
		if (s->key_type == TLV_PUBKEY) {
			match = len == s->key_len && memcmp(der, v, len) == 0;
		} else {
			rc = ota_digest_buffer(&h, info->hash_alg, der, len);
			match = !rc && CRYPTO_memcmp(h.bytes, v, h.len) == 0;
		}
		OPENSSL_free(der);
		if (rc)
			return rc;
		if (match) {
			info->trusted_key = (int)i;
			return 0;
		}
	}
	return verror(s->key_off, "%s matches none of the %zu trusted keys",
		      s->key_type == TLV_PUBKEY ? "PUBKEY" : "KEYHASH",
		      p->n_trusted);
}

/*
 * imgtool --pad-sig pads an ECDSA signature with zero bytes to a fixed
 * TLV length (72 for P-256, 103 for P-384); MCUboot reads the DER
 * SEQUENCE and ignores what follows it. Here what follows must be zeros:
 * *len becomes the DER length.
 */
static int ecdsa_unpad(size_t *len, struct ota_mcuboot_info *info,
		       const struct vstate *s, const uint8_t *sig)
{
	size_t der;

	*len = s->sig_len;
	if (info->sig_type != TLV_ECDSA_SIG || s->sig_len < 2 ||
	    sig[0] != 0x30 || sig[1] >= 0x80)
		return 0;
	der = 2 + (size_t)sig[1];
	if (der >= s->sig_len)
		return 0;
	for (size_t i = der; i < s->sig_len; i++)
		if (sig[i] != 0)
			return verror(
			    s->sig_off + 4 + i,
			    "byte 0x%02x after the %zu-byte DER ECDSA "
			    "signature in its %u-byte TLV: only zero "
			    "padding (imgtool --pad-sig) may follow "
			    "it",
			    sig[i], der, s->sig_len);
	info->sig_padding = s->sig_len - der;
	*len = der;
	return 0;
}

static int check_signature(struct ota_mcuboot_info *info,
			   const struct vstate *s,
			   const struct ota_mcuboot_policy *p)
{
	const uint8_t *sig_bytes;
	size_t sig_len;
	struct mcuboot_alg alg;
	enum ota_sig_alg sig;
	EVP_PKEY *pub;
	char who[32];
	int rc;

	if (!s->key_off)
		return verror(s->hash_end,
			      "no KEYHASH or PUBKEY TLV naming the signing "
			      "key");
	if (!s->sig_off)
		return verror(s->hash_end, "no signature TLV");
	if ((rc = find_trusted_key(info, s, p)))
		return rc;
	pub = p->trusted[info->trusted_key]->pkey;
	snprintf(who, sizeof(who), "trusted key %d", info->trusted_key);
	if ((rc = ota_sig_alg_for_key(&sig, pub, false)) ||
	    (rc = mcuboot_alg(&alg, sig, pub, OTA_EVERIFY, who)))
		return ota_error_wrap(OTA_EVERIFY, "offset %" PRIu64,
				      s->key_off);
	if (alg.hash != info->hash_alg)
		return verror(s->hash_off,
			      "%s image hash, but the %s key it names signs "
			      "%s images",
			      ota_digest_alg_name(info->hash_alg), alg.name,
			      ota_digest_alg_name(alg.hash));
	if (alg.sig_tlv != info->sig_type)
		return verror(s->sig_off,
			      "signature TLV 0x%02x does not fit the %s key "
			      "(MCUboot expects 0x%02x)",
			      info->sig_type, alg.name, alg.sig_tlv);
	sig_bytes = s->win + (s->sig_off + 4 - s->tlv_start);
	if ((rc = ecdsa_unpad(&sig_len, info, s, sig_bytes)))
		return rc;
	if (ota_signature_verify_digest(pub, alg.sig, s->image_digest,
					sig_bytes, sig_len))
		return verror(s->sig_off,
			      "%s signature does not verify with trusted "
			      "key %d",
			      alg.name, info->trusted_key);
	info->signature_ok = true;
	return 0;
}

/* Which hashes to compute: those the trusted keys can sign, or both. */
static void hashes_needed(bool need[2], const struct ota_mcuboot_policy *p)
{
	need[0] = need[1] = p->n_trusted == 0;
	for (size_t i = 0; i < p->n_trusted; i++) {
		enum ota_sig_alg sig = OTA_SIG_ECDSA_P256_SHA256;

		if (ota_sig_alg_for_key(&sig, p->trusted[i]->pkey, false) ==
			0 &&
		    sig == OTA_SIG_ECDSA_P384_SHA384)
			need[1] = true;
		else
			need[0] = true;
	}
}

static int stream_file(struct vstate *s, int fd, uint8_t *buf,
		       ota_progress_fn progress, void *progress_ctx)
{
	uint64_t off = 0;
	ssize_t n;
	int rc;

	while (off < s->file_size) {
		size_t want = s->file_size - off < MCUBOOT_BUFSIZE
				  ? (size_t)(s->file_size - off)
				  : MCUBOOT_BUFSIZE;

		n = read_full(fd, buf, want);
		if (n < 0)
			return ota_error(OTA_EINPUT,
					 "%s: read error at offset %" PRIu64
					 ": %s",
					 s->path, off, strerror(errno));
		if (n == 0)
			return ota_error(OTA_EINPUT,
					 "%s: shrank to %" PRIu64
					 " bytes while being read",
					 s->path, off);
		if ((rc = consume(s, buf, off, (size_t)n)))
			return rc;
		off += (uint64_t)n;
		if (progress)
			progress(progress_ctx, off, s->file_size);
	}
	n = read_full(fd, buf, 1);
	if (n != 0)
		return ota_error(OTA_EINPUT, "%s: grew while being read",
				 s->path);
	return 0;
}

/* The device policy (policy.c) on what the image says: its counter. */
static int policy_judge(struct ota_mcuboot_info *info,
			const struct ota_mcuboot_policy *p, bool authentic)
{
	struct ota_device_facts dev = { .check_counter = p->check_counter,
					.counter = p->counter };
	struct ota_release_facts rel;

	ota_release_facts_of_mcuboot(&rel, info);
	return ota_policy_judge(&info->policy, &dev, &rel, authentic);
}

/* Reads the TLV window with pread: it is parsed before the stream. */
static int read_window(struct vstate *s, int fd)
{
	uint64_t got = 0, want = s->win_end - s->tlv_start;

	while (got < want) {
		ssize_t n = pread(fd, s->win + got, (size_t)(want - got),
				  (off_t)(s->tlv_start + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ota_error(
			    OTA_EINPUT,
			    "%s: read error at offset %" PRIu64 ": %s", s->path,
			    s->tlv_start + got, strerror(errno));
		if (n == 0)
			return ota_error(
			    OTA_EINPUT, "%s: shrank while being read", s->path);
		got += (uint64_t)n;
	}
	return 0;
}

/*
 * Unwraps the content key of an encrypted image with the device key into
 * the AES-CTR stream that decrypts its payload; the key is wiped at once.
 */
static int open_payload_key(struct vstate *s,
			    const struct ota_mcuboot_info *info,
			    struct ota_decrypt_key *k)
{
	struct ota_content_key ck;
	enum ota_wrap_scheme sch;
	int rc;

	if ((rc = ota_wrap_scheme_of_tlv(&sch, info->enc_tlv)))
		return ota_error_wrap(OTA_EVERIFY, "offset %" PRIu64,
				      s->enc_off);
	rc = ota_unwrap(&ck, k, sch, s->win + (s->enc_off + 4 - s->tlv_start),
			info->enc_tlv_len, info->enc_bits / 8);
	if (rc == OTA_EVERIFY || rc == OTA_EINPUT)
		return ota_error_wrap(OTA_EVERIFY,
				      "offset %" PRIu64 ": key TLV 0x%02x",
				      s->enc_off, info->enc_tlv);
	if (rc)
		return rc;
	rc = ota_ctr_new(&s->ctr, &ck);
	ota_content_key_wipe(&ck);
	return rc;
}

static int new_md(EVP_MD_CTX **md, int i)
{
	*md = EVP_MD_CTX_new();
	if (!*md ||
	    !EVP_DigestInit_ex(
		*md, evp_md(i ? OTA_DIGEST_SHA384 : OTA_DIGEST_SHA256), NULL))
		return ota_error(OTA_EINTERNAL, "out of memory");
	return 0;
}

static int digests_equal(const uint8_t *a, const struct ota_digest *d,
			 enum ota_digest_alg alg)
{
	return d->len == ota_digest_alg_size(alg) &&
	       CRYPTO_memcmp(a, d->bytes, d->len) == 0;
}

/*
 * Which bytes the image hash matched: the decrypted payload, the stored
 * one (a plain image, or an encrypted one stored in the clear), or, for
 * an encrypted payload without its key, none that could be checked.
 */
static int match_hash(struct ota_mcuboot_info *info, struct vstate *s)
{
	int i = md_index(info->hash_alg);

	if (s->ctr && digests_equal(info->hash, &s->plain[i], info->hash_alg)) {
		info->body = OTA_MCUBOOT_BODY_DECRYPTED;
		s->image_digest = &s->plain[i];
	} else if (digests_equal(info->hash, &s->computed[i], info->hash_alg)) {
		info->body = info->enc_bits ? OTA_MCUBOOT_BODY_CLEAR
					    : OTA_MCUBOOT_BODY_PLAIN;
		s->image_digest = &s->computed[i];
	} else if (info->enc_bits && !s->ctr) {
		info->body = OTA_MCUBOOT_BODY_SEALED;
		return 0;
	} else {
		return verror(s->hash_off,
			      "image hash does not match bytes [0, %" PRIu64
			      ") of the file%s: the header, payload or "
			      "protected TLVs were modified",
			      s->hash_end,
			      s->ctr ? " with the payload decrypted (nor as "
				       "stored)"
				     : "");
	}
	info->hash_ok = true;
	return 0;
}

/* The message for an encrypted payload checked without its key. */
static int sealed_error(const struct ota_mcuboot_info *info)
{
	enum ota_wrap_scheme sch = OTA_WRAP_ECIES_P256;

	(void)ota_wrap_scheme_of_tlv(&sch, info->enc_tlv);
	return ota_error(OTA_EVERIFY,
			 "encrypted payload (AES-%u, key TLV 0x%02x %s): "
			 "the image hash and the signature cover the "
			 "plaintext and were not checked; give "
			 "--decrypt-key with %s",
			 info->enc_bits, info->enc_tlv,
			 ota_wrap_scheme_name(info->enc_tlv),
			 ota_wrap_scheme_key_type(sch));
}

static void vstate_clear(struct vstate *s)
{
	for (int i = 0; i < 2; i++) {
		EVP_MD_CTX_free(s->md[i]);
		EVP_MD_CTX_free(s->md_plain[i]);
	}
	ota_ctr_free(s->ctr);
	free(s->win);
	if (s->plainbuf)
		OPENSSL_cleanse(s->plainbuf, MCUBOOT_BUFSIZE);
	free(s->plainbuf);
}

/*
 * ota_mcuboot_verify() on an open state; fd stays open and the AES-CTR
 * stream alive for ota_mcuboot_extract()'s second pass.
 */
static int verify_fd(struct vstate *s, int *fd, struct ota_mcuboot_info *info,
		     const char *path, const struct ota_mcuboot_policy *policy,
		     ota_progress_fn progress, void *progress_ctx)
{
	uint8_t *buf = NULL, hdr[HDR_LEN];
	bool need[2];
	struct stat st;
	int rc;
	ssize_t n;

	memset(info, 0, sizeof(*info));
	info->trusted_key = -1;
	s->path = path;
	s->first_not_ff = s->first_not_00 = UINT64_MAX;

	if ((rc = open_regular(fd, &st, path)))
		return rc;
	s->file_size = info->file_size = (uint64_t)st.st_size;
	n = pread(*fd, hdr, HDR_LEN, 0);
	if (n < 0) {
		rc = ota_error(OTA_EINPUT, "%s: read error: %s", path,
			       strerror(errno));
		goto out;
	}
	if (n < HDR_LEN) {
		rc = verror((uint64_t)n,
			    "file ends inside the %d-byte image header",
			    HDR_LEN);
		goto out_wrap;
	}
	if ((rc = check_header(info, hdr, s->file_size)))
		goto out_wrap;

	s->body_start = info->header_size;
	s->tlv_start = (uint64_t)info->header_size + info->image_size;
	s->hash_end = s->tlv_start + info->protect_tlv_size;
	s->win_end = s->hash_end + TLV_AREA_MAX;
	if (s->win_end > s->file_size)
		s->win_end = s->file_size;
	s->tail_start = s->file_size > TAIL_LEN ? s->file_size - TAIL_LEN : 0;
	hashes_needed(need, policy);
	buf = malloc(MCUBOOT_BUFSIZE);
	/* One spare byte keeps win valid when the window is empty. */
	s->win = malloc(s->win_end - s->tlv_start + 1);
	if (!buf || !s->win) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = read_window(s, *fd)))
		goto out;
	if ((rc = parse_protected(info, s)) ||
	    (rc = parse_unprotected(info, s)) || (rc = check_key_tlv(info, s)))
		goto out_wrap;
	if (info->enc_bits && policy->decrypt_key) {
		if ((rc = open_payload_key(s, info, policy->decrypt_key)))
			goto out_wrap;
		if (!(s->plainbuf = malloc(MCUBOOT_BUFSIZE))) {
			rc = ota_error(OTA_EINTERNAL, "out of memory");
			goto out;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (!need[i])
			continue;
		if ((rc = new_md(&s->md[i], i)) ||
		    (s->ctr && (rc = new_md(&s->md_plain[i], i))))
			goto out;
	}
	if ((rc = stream_file(s, *fd, buf, progress, progress_ctx)))
		goto out;
	for (int i = 0; i < 2; i++) {
		enum ota_digest_alg alg =
		    i ? OTA_DIGEST_SHA384 : OTA_DIGEST_SHA256;

		if ((s->md[i] &&
		     (rc = hash_final(&s->computed[i], s->md[i], alg))) ||
		    (s->md_plain[i] &&
		     (rc = hash_final(&s->plain[i], s->md_plain[i], alg))))
			goto out;
	}

	if ((rc = check_trailing(s)))
		goto out_wrap;
	if (!s->md[md_index(info->hash_alg)]) {
		rc = verror(
		    s->hash_off,
		    "%s image hash, but every trusted key signs %s "
		    "images (MCUboot pairs P-384 with SHA-384 and "
		    "the other keys with SHA-256)",
		    ota_digest_alg_name(info->hash_alg),
		    ota_digest_alg_name(info->hash_alg == OTA_DIGEST_SHA384
					    ? OTA_DIGEST_SHA256
					    : OTA_DIGEST_SHA384));
		goto out_wrap;
	}
	if ((rc = match_hash(info, s)))
		goto out_wrap;
	if (info->body == OTA_MCUBOOT_BODY_SEALED) {
		/* The key it names can be judged; its signature cannot. */
		if (policy->n_trusted == 0)
			goto out;
		if ((!s->key_off || !s->sig_off)
			? (rc = check_signature(info, s, policy))
			: (rc = find_trusted_key(info, s, policy)))
			goto out_wrap;
		rc = sealed_error(info);
		goto out_wrap;
	}
	if (policy->n_trusted > 0 && (rc = check_signature(info, s, policy)))
		goto out_wrap;
	/* Reached only once the signature verified (or none was asked). */
	if ((rc = policy_judge(info, policy, true)))
		rc = ota_error(rc, "%s: %s", path, info->policy.message);
	goto out;
out_wrap:
	ota_error_wrap(rc, "%s", path);
out:
	if (policy->check_counter && info->policy.n_checks == 0)
		policy_judge(info, policy, false);
	free(buf);
	return rc;
}

int ota_mcuboot_verify(struct ota_mcuboot_info *info, const char *path,
		       const struct ota_mcuboot_policy *policy,
		       ota_progress_fn progress, void *progress_ctx)
{
	static const struct ota_mcuboot_policy no_policy = { 0 };
	struct ota_mcuboot_info scratch;
	struct vstate s = { 0 };
	int fd = -1, rc;

	rc = verify_fd(&s, &fd, info ? info : &scratch, path,
		       policy ? policy : &no_policy, progress, progress_ctx);
	vstate_clear(&s);
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * The second pass of extract: the payload, decrypted as it was verified,
 * into out, with the hashed range hashed again, so that a file changed
 * since the first pass is never written.
 */
static int write_payload(struct vstate *s, int fd,
			 const struct ota_mcuboot_info *info,
			 struct ota_output *out)
{
	EVP_MD_CTX *md = NULL;
	struct ota_digest d;
	uint64_t off = 0;
	uint8_t *buf = NULL;
	bool decrypt = info->body == OTA_MCUBOOT_BODY_DECRYPTED;
	int rc = 0;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return ota_error(OTA_EINPUT, "%s: cannot rewind: %s", s->path,
				 strerror(errno));
	if (decrypt && (rc = ota_ctr_seek(s->ctr, 0)))
		return rc;
	buf = malloc(MCUBOOT_BUFSIZE);
	if (!buf || (rc = new_md(&md, md_index(info->hash_alg)))) {
		rc = buf ? rc : ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	while (off < s->hash_end) {
		uint64_t left = s->hash_end - off, bs, be;
		size_t want =
		    left < MCUBOOT_BUFSIZE ? (size_t)left : MCUBOOT_BUFSIZE;
		ssize_t n = read_full(fd, buf, want);

		if (n <= 0) {
			rc = ota_error(OTA_EINPUT,
				       "%s: changed while being extracted "
				       "(read error or end at offset %" PRIu64
				       ")",
				       s->path, off);
			goto out;
		}
		bs = off > s->body_start ? off : s->body_start;
		be = off + (uint64_t)n < s->tlv_start ? off + (uint64_t)n
						      : s->tlv_start;
		if (bs < be) {
			uint8_t *p = buf + (bs - off);

			if ((decrypt &&
			     (rc = ota_ctr_update(s->ctr, p, p, be - bs))) ||
			    (rc = ota_output_write(out, p, be - bs)))
				goto out;
		}
		if ((rc = hash_update(md, buf, (size_t)n)))
			goto out;
		off += (uint64_t)n;
	}
	if ((rc = hash_final(&d, md, info->hash_alg)))
		goto out;
	if (!digests_equal(info->hash, &d, info->hash_alg))
		rc = ota_error(OTA_EVERIFY,
			       "%s: changed while being extracted: the image "
			       "hash no longer matches",
			       s->path);
out:
	EVP_MD_CTX_free(md);
	if (buf)
		OPENSSL_cleanse(buf, MCUBOOT_BUFSIZE);
	free(buf);
	return rc;
}

int ota_mcuboot_extract(struct ota_mcuboot_info *info, const char *out_path,
			const char *path,
			const struct ota_mcuboot_policy *policy,
			ota_progress_fn progress, void *progress_ctx)
{
	struct ota_mcuboot_info scratch;
	struct ota_output *out = NULL;
	struct vstate s = { 0 };
	int fd = -1, rc;

	if (!info)
		info = &scratch;
	memset(info, 0, sizeof(*info));
	if (!policy || policy->n_trusted == 0)
		return ota_error(OTA_EUSAGE,
				 "extract verifies the signature first: give "
				 "a trusted key");
	if ((rc = verify_fd(&s, &fd, info, path, policy, progress,
			    progress_ctx)))
		goto out;
	if ((rc = ota_output_open(&out, out_path, 0644, 0)) ||
	    (rc = write_payload(&s, fd, info, out)))
		goto out;
	rc = ota_output_commit(out);
	out = NULL;
out:
	ota_output_abort(out);
	vstate_clear(&s);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- reporting -------------------------------------------------------- */

static json_t *version_json(const struct ota_mcuboot_version *v)
{
	char text[48];

	snprintf(text, sizeof(text), "%u.%u.%u+%" PRIu32, v->major, v->minor,
		 v->revision, v->build);
	return json_pack("{s:s, s:i, s:i, s:i, s:I}", "text", text, "major",
			 v->major, "minor", v->minor, "revision", v->revision,
			 "build", (json_int_t)v->build);
}

static json_t *hex_json(const uint8_t *data, size_t len)
{
	char hex[2 * OTA_DIGEST_MAX + 1];

	ota_hex_encode(hex, data, len);
	return json_string(hex);
}

static json_t *flags_json(uint32_t flags)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ 0x1, "PIC" },
		{ 0x4, "ENC_AES128" },
		{ 0x8, "ENC_AES256" },
		{ 0x10, "NON_BOOTABLE" },
		{ 0x20, "RAM_LOAD" },
		{ 0x100, "ROM_FIXED" },
		{ 0x200, "COMPRESSED_LZMA1" },
		{ 0x400, "COMPRESSED_LZMA2" },
		{ 0x800, "COMPRESSED_ARM_THUMB" },
	};
	json_t *a = json_array();

	for (size_t i = 0; a && i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & names[i].bit)
			json_array_append_new(a, json_string(names[i].name));
	return a;
}

static const char *sig_type_name(uint16_t type)
{
	switch (type) {
	case TLV_RSA2048_PSS:
		return "RSA2048_PSS";
	case TLV_ECDSA224:
		return "ECDSA224";
	case TLV_ECDSA_SIG:
		return "ECDSA_SIG";
	case TLV_RSA3072_PSS:
		return "RSA3072_PSS";
	case TLV_ED25519:
		return "ED25519";
	case TLV_SIG_PURE:
		return "SIG_PURE";
	}
	return NULL;
}

static const char *body_name(enum ota_mcuboot_body b)
{
	switch (b) {
	case OTA_MCUBOOT_BODY_DECRYPTED:
		return "decrypted";
	case OTA_MCUBOOT_BODY_CLEAR:
		return "clear";
	case OTA_MCUBOOT_BODY_SEALED:
		return "encrypted";
	case OTA_MCUBOOT_BODY_PLAIN:
		break;
	}
	return "plain";
}

/* null for an image that is not encrypted and carries no key TLV. */
static json_t *encryption_json(const struct ota_mcuboot_info *info)
{
	/* By name: ota_wrap_scheme_of_tlv() would record a message. */
	bool known = ota_wrap_scheme_name(info->enc_tlv) != NULL;
	enum ota_wrap_scheme sch = (enum ota_wrap_scheme)info->enc_tlv;

	if (!info->enc_bits && !info->enc_tlv)
		return json_null();
	return json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:s}", "aes_bits",
	    info->enc_bits ? json_integer(info->enc_bits) : json_null(),
	    "key_tlv",
	    info->enc_tlv ? json_integer(info->enc_tlv) : json_null(), "scheme",
	    known ? json_string(ota_wrap_scheme_name(info->enc_tlv))
		  : json_null(),
	    "key_needed",
	    known ? json_string(ota_wrap_scheme_key_type(sch)) : json_null(),
	    "key_tlv_len",
	    info->enc_tlv ? json_integer(info->enc_tlv_len) : json_null(),
	    "payload", body_name(info->body));
}

json_t *ota_mcuboot_info_json(const struct ota_mcuboot_info *info)
{
	size_t hash_len = ota_digest_alg_size(info->hash_alg);
	json_t *o = json_object(), *deps = json_array();
	int err = !o || !deps;

	for (size_t i = 0; !err && i < info->n_deps; i++)
		err |= json_array_append_new(
		    deps, json_pack("{s:i, s:o}", "image_id",
				    info->deps[i].image_id, "min_version",
				    version_json(&info->deps[i].min_version)));
	if (err) {
		json_decref(o);
		json_decref(deps);
		return NULL;
	}
	err |= json_object_set_new(o, "file_size",
				   json_integer((json_int_t)info->file_size));
	err |= json_object_set_new(o, "load_address",
				   json_integer(info->load_address));
	err |= json_object_set_new(o, "header_size",
				   json_integer(info->header_size));
	err |= json_object_set_new(o, "protect_tlv_size",
				   json_integer(info->protect_tlv_size));
	err |= json_object_set_new(o, "image_size",
				   json_integer(info->image_size));
	err |= json_object_set_new(o, "flags", json_integer(info->flags));
	err |= json_object_set_new(o, "flag_names", flags_json(info->flags));
	err |= json_object_set_new(o, "version", version_json(&info->version));
	err |= json_object_set_new(o, "security_counter",
				   info->has_security_counter
				       ? json_integer(info->security_counter)
				       : json_null());
	err |= json_object_set_new(o, "dependencies", deps);
	err |= json_object_set_new(
	    o, "hash_alg", json_string(ota_digest_alg_name(info->hash_alg)));
	err |= json_object_set_new(o, "hash", hex_json(info->hash, hash_len));
	err |= json_object_set_new(o, "hash_ok", json_boolean(info->hash_ok));
	err |= json_object_set_new(o, "key_tlv",
				   info->has_keyhash  ? json_string("KEYHASH")
				   : info->has_pubkey ? json_string("PUBKEY")
						      : json_null());
	err |= json_object_set_new(o, "keyhash",
				   info->has_keyhash
				       ? hex_json(info->keyhash, hash_len)
				       : json_null());
	err |= json_object_set_new(o, "trusted_key",
				   info->trusted_key >= 0
				       ? json_integer(info->trusted_key)
				       : json_null());
	err |= json_object_set_new(o, "signature_type",
				   info->sig_type ? json_integer(info->sig_type)
						  : json_null());
	err |=
	    json_object_set_new(o, "signature_type_name",
				sig_type_name(info->sig_type)
				    ? json_string(sig_type_name(info->sig_type))
				    : json_null());
	err |= json_object_set_new(o, "signature_ok",
				   json_boolean(info->signature_ok));
	err |= json_object_set_new(o, "signature_padding",
				   json_integer((json_int_t)info->sig_padding));
	err |= json_object_set_new(o, "encryption", encryption_json(info));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The release's image to sign: named, the only one, or the application. */
static int release_image(size_t *index, const struct ota_manifest *m,
			 const char *what, const char *image)
{
	for (size_t i = 0; i < m->n_images; i++) {
		const struct ota_image *c = &m->images[i];

		if (image ? strcmp(c->name, image) == 0
			  : (m->n_images == 1 ||
			     strcmp(c->kind, "application") == 0)) {
			*index = i;
			return 0;
		}
	}
	if (image)
		return ota_error(OTA_EUSAGE,
				 "--image %s: no image of that name", image);
	return ota_error(OTA_EUSAGE,
			 "%s: several images and none of kind application: "
			 "choose one with --image",
			 what);
}

int ota_mcuboot_write_release(const char *out_path,
			      const struct ota_manifest *m, const char *what,
			      const char *image, int64_t build_number,
			      const struct ota_signers *signers,
			      struct ota_mcuboot_opts *opts,
			      ota_progress_fn progress, void *progress_ctx)
{
	const struct ota_image *img;
	size_t i = 0;
	int rc;

	if (ota_signers_count(signers) != 1)
		return ota_error(OTA_EUSAGE,
				 "an MCUboot image carries one signature: give "
				 "one --key");
	if ((rc = release_image(&i, m, what, image)))
		return rc;
	img = &m->images[i];
	if ((rc = ota_mcuboot_version_from_semver(&opts->version, &m->version,
						  build_number)))
		return ota_error_wrap(rc, "%s: version", what);
	if (img->has_load_address) {
		if (img->load_address > UINT32_MAX)
			return ota_error(OTA_EINPUT,
					 "image %s: load address 0x%llx does "
					 "not fit MCUboot's 32 bits",
					 img->name,
					 (unsigned long long)img->load_address);
		opts->has_load_address = true;
		opts->load_address = (uint32_t)img->load_address;
	}
	opts->has_security_counter = true;
	opts->security_counter = m->security_counter;
	/* The manifest's digest of this image must still hold. */
	if (img->digest.len &&
	    (rc = ota_manifest_check_image(m, i, progress, progress_ctx)))
		return rc;
	return ota_mcuboot_write(out_path, img->path, signers, opts, progress,
				 progress_ctx);
}

int ota_mcuboot_info_to_json(char **out, size_t *len,
			     const struct ota_mcuboot_info *info)
{
	return ota_json_text(out, len, ota_mcuboot_info_json(info));
}
