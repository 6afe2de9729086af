/*
 * Unit tests for src/lib/mcuboot.c: images checked byte by byte against the
 * layout in otatool-mcuboot(5) (man/otatool-mcuboot.5), hashes, key hashes and
 * signatures recomputed with OpenSSL (and once with the openssl CLI), and
 * the verifier fed tampered, truncated and bit-flipped images.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "key_priv.h"
#include "otatool/cipher.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/hex.h"
#include "otatool/key.h"
#include "otatool/manifest.h"
#include "otatool/mcuboot.h"
#include "otatool/semver.h"
#include "otatool/signer.h"

#include "tmpdir.h"

static char tmpdir[64];
static char signed_path[128]; /* the image each test writes */

static void setup(void)
{
	tmpdir_make(tmpdir, sizeof(tmpdir), "mcuboot");
	snprintf(signed_path, sizeof(signed_path), "%s/signed.bin", tmpdir);
}

static void teardown(void)
{
	if (tmpdir[0])
		tmpdir_remove(tmpdir);
}

TestSuite(mcuboot_version);
TestSuite(mcuboot_write, .init = setup, .fini = teardown, .timeout = 120);
TestSuite(mcuboot_verify, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers ---------------------------------------------------------- */

static const char *in_tmp(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tmpdir, name);
	return b;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	data = malloc((size_t)n + 1);
	cr_assert_not_null(data);
	cr_assert_eq(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return data;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int count_entries(void)
{
	struct dirent *e;
	DIR *d = opendir(tmpdir);
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

enum kind { K_P256, K_P384, K_RSA2048, K_RSA3072, K_RSA4096, K_ED25519 };

/* A fresh key pair: PEM private key file, public key PEM, both handles. */
struct test_key {
	EVP_PKEY *pkey;
	struct ota_public_key *public_key; /* pkey, as verifiers trust it */
	struct ota_key *key;
	char priv[512], pub[512];
};

static void make_key_opts(struct test_key *k, enum kind kind, const char *name,
			  bool rsa_pkcs1)
{
	static const size_t rsa_bits[] = {
		[K_RSA2048] = 2048, [K_RSA3072] = 3072, [K_RSA4096] = 4096
	};
	FILE *f;

	switch (kind) {
	case K_P256:
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case K_P384:
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case K_ED25519:
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", rsa_bits[kind]);
	}
	cr_assert_not_null(k->pkey, "keygen %s", name);
	cr_assert_eq(ota_public_key_from_pkey(&k->public_key, k->pkey), 0);
	snprintf(k->priv, sizeof(k->priv), "%s/%s.key", tmpdir, name);
	snprintf(k->pub, sizeof(k->pub), "%s/%s.pub", tmpdir, name);
	f = fopen(k->priv, "w");
	cr_assert_not_null(f);
	cr_assert(PEM_write_PrivateKey(f, k->pkey, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	f = fopen(k->pub, "w");
	cr_assert_not_null(f);
	cr_assert(PEM_write_PUBKEY(f, k->pkey));
	fclose(f);
	cr_assert_eq(
	    ota_key_open(&k->key, k->priv,
			 &(struct ota_key_opts){ .rsa_pkcs1 = rsa_pkcs1 }),
	    0, "ota_key_open: %s", ota_error_message());
}

static void make_key(struct test_key *k, enum kind kind, const char *name)
{
	make_key_opts(k, kind, name, false);
}

static void free_key(struct test_key *k)
{
	ota_key_free(k->key);
	ota_public_key_free(k->public_key);
	EVP_PKEY_free(k->pkey);
}

/* The public key as MCUboot sees it, encoded through OSSL_ENCODER. */
static uint8_t *key_der(EVP_PKEY *pkey, size_t *len)
{
	bool rsa = EVP_PKEY_is_a(pkey, "RSA");
	OSSL_ENCODER_CTX *ctx = OSSL_ENCODER_CTX_new_for_pkey(
	    pkey, EVP_PKEY_PUBLIC_KEY, "DER",
	    rsa ? "type-specific" : "SubjectPublicKeyInfo", NULL);
	unsigned char *der = NULL;

	cr_assert_not_null(ctx);
	cr_assert_eq(OSSL_ENCODER_to_data(ctx, &der, len), 1);
	OSSL_ENCODER_CTX_free(ctx);
	return der;
}

static void md_of(uint8_t *out, const char *md, const void *data, size_t len)
{
	unsigned int n = 0;

	cr_assert(
	    EVP_Digest(data, len, out, &n, EVP_get_digestbyname(md), NULL));
}

/* Verifies sig over the digest with OpenSSL, as MCUboot would. */
static bool sig_ok(EVP_PKEY *pkey, const char *md, const uint8_t *dg,
		   size_t dglen, const uint8_t *sig, size_t siglen)
{
	EVP_PKEY_CTX *pctx;
	int ok;

	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		ok = EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, pkey,
					     NULL) == 1 &&
		     EVP_DigestVerify(ctx, sig, siglen, dg, dglen) == 1;
		EVP_MD_CTX_free(ctx);
		return ok;
	}
	pctx = EVP_PKEY_CTX_new(pkey, NULL);
	cr_assert_not_null(pctx);
	cr_assert_eq(EVP_PKEY_verify_init(pctx), 1);
	cr_assert_gt(
	    EVP_PKEY_CTX_set_signature_md(pctx, EVP_get_digestbyname(md)), 0);
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		cr_assert_gt(
		    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING),
		    0);
		cr_assert_gt(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 0);
		cr_assert_gt(EVP_PKEY_CTX_set_rsa_mgf1_md(
				 pctx, EVP_get_digestbyname(md)),
			     0);
	}
	ok = EVP_PKEY_verify(pctx, sig, siglen, dg, dglen) == 1;
	EVP_PKEY_CTX_free(pctx);
	return ok;
}

/* A payload that is not all one byte, so a misplaced copy shows. */
static uint8_t *make_payload(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	cr_assert_not_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + 7 + (i >> 8));
	return p;
}

static struct ota_mcuboot_opts base_opts(void)
{
	struct ota_mcuboot_opts o = { 0 };

	o.version = (struct ota_mcuboot_version){ 1, 2, 3, 4 };
	o.header_size = 0x200;
	o.erased_value = 0xff;
	o.align = 8;
	return o;
}

/* ota_mcuboot_write() with key as the one signer. */
static int mcuboot_write(const char *out, const char *in, struct ota_key *key,
			 const struct ota_mcuboot_opts *o, ota_progress_fn cb,
			 void *ctx)
{
	struct ota_signers *s = NULL;
	int rc = ota_signers_wrap(&s, &key, 1);

	cr_assert_eq(rc, 0);
	rc = ota_mcuboot_write(out, in, s, o, cb, ctx);
	ota_signers_free(s);
	return rc;
}

/* Writes a payload of len bytes and signs it into out; returns rc. */
static int sign_image(const char *out, struct test_key *k, size_t len,
		      const struct ota_mcuboot_opts *o)
{
	const char *in = in_tmp("payload.bin");
	uint8_t *payload = make_payload(len);
	int rc;

	write_file(in, payload, len);
	free(payload);
	/* Each call is a command of its own, with inputs of its own. */
	ota_input_forget_all();
	rc = mcuboot_write(out, in, k->key, o, NULL, NULL);
	return rc;
}

/* What the layout check expects besides the options. */
struct expect {
	const char *md;    /* "SHA256" or "SHA384" */
	uint16_t hash_tlv; /* 0x10 / 0x11 */
	uint16_t sig_tlv;  /* 0x20, 0x22, 0x23, 0x24 */
	size_t sig_len;    /* 0: DER, variable */
	uint32_t flags;
	size_t payload_len;
};

/* Where the parts of a checked image are. */
struct layout {
	size_t prot_off, unprot_off, hash_off, key_off, sig_off, sig_len;
};

/*
 * Checks an image byte by byte against the format document, recomputing
 * the hash, the key hash and the signature independently.
 */
static struct layout check_layout(const uint8_t *img, size_t len,
				  const struct ota_mcuboot_opts *o,
				  const struct test_key *k,
				  const struct expect *x)
{
	const uint8_t magic[4] = { 0x3d, 0xb8, 0xf3, 0x96 };
	size_t hdr = o->header_size, off, dglen, der_len, prot_len = 0;
	uint8_t dg[64], kh[64], prot[256];
	uint8_t *payload = make_payload(x->payload_len), *der;
	struct layout l = { 0 };

	/* Header, field by field. */
	cr_assert_geq(len, hdr + x->payload_len);
	cr_assert_arr_eq(img, magic, 4, "magic");
	cr_assert_eq(le32(img + 4), o->has_load_address ? o->load_address : 0,
		     "load_addr");
	cr_assert_eq(le16(img + 8), hdr, "hdr_size");
	cr_assert_eq(le32(img + 12), x->payload_len, "img_size");
	cr_assert_eq(le32(img + 16), x->flags, "flags 0x%x", le32(img + 16));
	cr_assert_eq(img[20], o->version.major);
	cr_assert_eq(img[21], o->version.minor);
	cr_assert_eq(le16(img + 22), o->version.revision);
	cr_assert_eq(le32(img + 24), o->version.build);
	cr_assert_eq(le32(img + 28), 0, "pad");
	for (size_t i = 32; i < hdr; i++)
		cr_assert_eq(img[i], o->erased_value, "header padding at %zu",
			     i);
	cr_assert_arr_eq(img + hdr, payload, x->payload_len, "payload");
	free(payload);

	/* Protected area, built here from the options by hand. */
	l.prot_off = hdr + x->payload_len;
	if (o->has_security_counter || o->n_deps) {
		prot_len = 4;
		if (o->has_security_counter) {
			uint8_t t[8] = { 0x50, 0, 4, 0 };

			t[4] = (uint8_t)o->security_counter;
			t[5] = (uint8_t)(o->security_counter >> 8);
			t[6] = (uint8_t)(o->security_counter >> 16);
			t[7] = (uint8_t)(o->security_counter >> 24);
			memcpy(prot + prot_len, t, 8);
			prot_len += 8;
		}
		for (size_t i = 0; i < o->n_deps; i++) {
			const struct ota_mcuboot_dep *d = &o->deps[i];
			uint8_t t[16] = {
				0x40, 0, 12, 0, d->image_id, 0, 0, 0
			};

			t[8] = d->min_version.major;
			t[9] = d->min_version.minor;
			set16(t + 10, d->min_version.revision);
			t[12] = (uint8_t)d->min_version.build;
			t[13] = (uint8_t)(d->min_version.build >> 8);
			t[14] = (uint8_t)(d->min_version.build >> 16);
			t[15] = (uint8_t)(d->min_version.build >> 24);
			memcpy(prot + prot_len, t, 16);
			prot_len += 16;
		}
		prot[0] = 0x08;
		prot[1] = 0x69;
		set16(prot + 2, (uint16_t)prot_len);
		cr_assert_arr_eq(img + l.prot_off, prot, prot_len,
				 "protected TLV area");
	}
	cr_assert_eq(le16(img + 10), prot_len, "protect_tlv_size");

	/* The hash covers [0, hdr + img + protected). */
	l.unprot_off = l.prot_off + prot_len;
	md_of(dg, x->md, img, l.unprot_off);
	dglen = strcmp(x->md, "SHA384") == 0 ? 48 : 32;

	/* Unprotected: info, hash, KEYHASH/PUBKEY, signature, EOF. */
	off = l.unprot_off;
	cr_assert_eq(img[off], 0x07);
	cr_assert_eq(img[off + 1], 0x69);
	cr_assert_eq(l.unprot_off + le16(img + off + 2), len,
		     "TLV area must end at EOF");
	off += 4;
	l.hash_off = off;
	cr_assert_eq(le16(img + off), x->hash_tlv, "hash TLV type");
	cr_assert_eq(le16(img + off + 2), dglen);
	cr_assert_arr_eq(img + off + 4, dg, dglen, "image hash");
	off += 4 + dglen;

	l.key_off = off;
	der = key_der(k->pkey, &der_len);
	if (o->public_key_tlv) {
		cr_assert_eq(le16(img + off), 0x02, "PUBKEY type");
		cr_assert_eq(le16(img + off + 2), der_len);
		cr_assert_arr_eq(img + off + 4, der, der_len, "PUBKEY");
		off += 4 + der_len;
	} else {
		md_of(kh, x->md, der, der_len);
		cr_assert_eq(le16(img + off), 0x01, "KEYHASH type");
		cr_assert_eq(le16(img + off + 2), dglen);
		cr_assert_arr_eq(img + off + 4, kh, dglen, "KEYHASH");
		off += 4 + dglen;
	}
	OPENSSL_free(der);

	l.sig_off = off;
	cr_assert_eq(le16(img + off), x->sig_tlv, "signature TLV type 0x%x",
		     le16(img + off));
	l.sig_len = le16(img + off + 2);
	if (x->sig_len)
		cr_assert_eq(l.sig_len, x->sig_len, "signature length");
	else
		cr_assert(img[off + 4] == 0x30, "ECDSA signature is DER");
	cr_assert_eq(off + 4 + l.sig_len, len, "signature ends the file");
	cr_assert(sig_ok(k->pkey, x->md, dg, dglen, img + off + 4, l.sig_len),
		  "signature does not verify with OpenSSL");
	return l;
}

static int verify_with(const char *path, struct ota_public_key *const *trusted,
		       size_t n, struct ota_mcuboot_info *info)
{
	struct ota_mcuboot_policy p = { .trusted = trusted, .n_trusted = n };

	return ota_mcuboot_verify(info, path, &p, NULL, NULL);
}

static void assert_verifies(const char *path, struct ota_public_key *pub)
{
	struct ota_mcuboot_info info;
	int rc = verify_with(path, &pub, 1, &info);

	cr_assert_eq(rc, 0, "verify: %s", ota_error_message());
	cr_assert(info.hash_ok);
	cr_assert(info.signature_ok);
	cr_assert_eq(info.trusted_key, 0);
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : WEXITSTATUS(st);
}

/* ---- version ---------------------------------------------------------- */

static int from_text(struct ota_mcuboot_version *v, const char *text,
		     int64_t build)
{
	struct ota_semver sv;

	cr_assert_eq(ota_semver_parse(&sv, text), 0, "%s", text);
	return ota_mcuboot_version_from_semver(v, &sv, build);
}

Test(mcuboot_version, fields_and_build_number)
{
	struct ota_mcuboot_version v;

	cr_assert_eq(from_text(&v, "1.2.3+42", -1), 0);
	cr_assert_eq(v.major, 1);
	cr_assert_eq(v.minor, 2);
	cr_assert_eq(v.revision, 3);
	cr_assert_eq(v.build, 42);
	cr_assert_eq(from_text(&v, "1.2.3+42", 7), 0);
	cr_assert_eq(v.build, 7, "an explicit build number wins");
	cr_assert_eq(from_text(&v, "1.2.3+build.5", -1), 0);
	cr_assert_eq(v.build, 0, "non-numeric metadata gives 0");
	cr_assert_eq(from_text(&v, "1.2.3", -1), 0);
	cr_assert_eq(v.build, 0);
	cr_assert_eq(from_text(&v, "255.255.65535+4294967295", -1), 0);
	cr_assert_eq(v.major, 255);
	cr_assert_eq(v.minor, 255);
	cr_assert_eq(v.revision, 65535);
	cr_assert_eq(v.build, 4294967295u);
	cr_assert_eq(from_text(&v, "1.0.0+4294967296", -1), 0);
	cr_assert_eq(v.build, 0, "metadata that is not a u32 gives 0");
	cr_assert_eq(from_text(&v, "0.0.0", 4294967295), 0);
	cr_assert_eq(v.build, 4294967295u);
}

Test(mcuboot_version, overflow_is_a_clear_error)
{
	struct ota_mcuboot_version v;

	cr_assert_eq(from_text(&v, "256.0.0", -1), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "major 256"), "%s",
		  ota_error_message());
	cr_assert(strstr(ota_error_message(), "256.0.0"));
	cr_assert_eq(from_text(&v, "1.256.0", -1), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "minor 256"), "%s",
		  ota_error_message());
	cr_assert_eq(from_text(&v, "1.0.65536", -1), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "patch 65536"), "%s",
		  ota_error_message());
	cr_assert_eq(from_text(&v, "1.0.0", 4294967296), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "build number"), "%s",
		  ota_error_message());
}

Test(mcuboot_version, prerelease_refused)
{
	struct ota_mcuboot_version v = { 9, 9, 9, 9 };

	cr_assert_eq(from_text(&v, "1.0.0-rc.1", -1), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "pre-release"), "%s",
		  ota_error_message());
	cr_assert_eq(v.major, 9, "out untouched on error");
}

Test(mcuboot_version, is_image)
{
	const uint8_t good[] = { 0x3d, 0xb8, 0xf3, 0x96, 0 };
	const uint8_t bad[] = { 0x96, 0xf3, 0xb8, 0x3d };

	cr_assert(ota_mcuboot_is_image(good, 4));
	cr_assert_not(ota_mcuboot_is_image(good, 3));
	cr_assert_not(ota_mcuboot_is_image(bad, 4));
}

/* ---- writing ---------------------------------------------------------- */

static void progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	uint64_t *last = ctx;

	cr_assert_geq(done, last[0]);
	last[0] = done;
	last[1] = total;
}

Test(mcuboot_write, p256_layout_byte_by_byte)
{
	struct ota_mcuboot_opts o = base_opts();
	struct expect x = { "SHA256", 0x10, 0x22, 0, 0, 1000 };
	const char *out = signed_path;
	struct ota_mcuboot_info info;
	struct test_key k;
	struct layout l;
	uint64_t prog[2] = { 0, 0 };
	uint8_t *img;
	size_t len;

	make_key(&k, K_P256, "p256");
	o.has_security_counter = true;
	o.security_counter = 0x01020304;
	o.n_deps = 2;
	o.deps[0] = (struct ota_mcuboot_dep){ 1, { 2, 3, 0x0405, 0x06070809 } };
	o.deps[1] = (struct ota_mcuboot_dep){ 7, { 255, 0, 65535, 1 } };
	img = make_payload(1000);
	write_file(in_tmp("payload.bin"), img, 1000);
	free(img);
	cr_assert_eq(mcuboot_write(out, in_tmp("payload.bin"), k.key, &o,
				   progress_cb, prog),
		     0, "%s", ota_error_message());
	cr_assert_eq(prog[0], 1000, "progress reaches the payload size");
	cr_assert_eq(prog[1], 1000);
	img = read_file(out, &len);
	l = check_layout(img, len, &o, &k, &x);
	cr_assert_eq(le16(img + 10), 4 + 8 + 2 * 16);

	/* The same signature through the openssl CLI. */
	{
		uint8_t dg[32];

		md_of(dg, "SHA256", img, l.unprot_off);
		write_file(in_tmp("digest.bin"), dg, 32);
		write_file(in_tmp("sig.der"), img + l.sig_off + 4, l.sig_len);
		cr_assert_eq(run("openssl pkeyutl -verify -pubin -inkey %s "
				 "-in %s -sigfile %s >/dev/null 2>&1",
				 k.pub, in_tmp("digest.bin"),
				 in_tmp("sig.der")),
			     0, "openssl pkeyutl -verify refused it");
		dg[0] ^= 1;
		write_file(in_tmp("digest.bin"), dg, 32);
		cr_assert_neq(run("openssl pkeyutl -verify -pubin -inkey %s "
				  "-in %s -sigfile %s >/dev/null 2>&1",
				  k.pub, in_tmp("digest.bin"),
				  in_tmp("sig.der")),
			      0, "the CLI check can fail");
	}

	cr_assert_eq(verify_with(out, &k.public_key, 1, &info), 0, "%s",
		     ota_error_message());
	cr_assert_eq(info.header_size, 0x200);
	cr_assert_eq(info.image_size, 1000);
	cr_assert_eq(info.protect_tlv_size, 44);
	cr_assert_eq(info.version.major, 1);
	cr_assert_eq(info.version.build, 4);
	cr_assert(info.has_security_counter);
	cr_assert_eq(info.security_counter, 0x01020304);
	cr_assert_eq(info.n_deps, 2);
	cr_assert_eq(info.deps[0].image_id, 1);
	cr_assert_eq(info.deps[0].min_version.revision, 0x0405);
	cr_assert_eq(info.deps[1].min_version.major, 255);
	cr_assert_eq(info.hash_alg, OTA_DIGEST_SHA256);
	cr_assert(info.has_keyhash);
	cr_assert_arr_eq(info.keyhash, img + l.key_off + 4, 32);
	cr_assert_arr_eq(info.hash, img + l.hash_off + 4, 32);
	cr_assert_eq(info.sig_type, 0x22);
	cr_assert(info.signature_ok);
	cr_assert_eq(info.file_size, len);
	free(img);
	free_key(&k);
}

Test(mcuboot_write, erased_zero_and_load_address)
{
	struct ota_mcuboot_opts o = base_opts();
	struct expect x = { "SHA256", 0x10, 0x24, 64, 0x20, 77 };
	const char *out = signed_path;
	struct test_key k;
	uint8_t *img;
	size_t len;

	make_key(&k, K_ED25519, "ed");
	o.erased_value = 0;
	o.header_size = 0x40;
	o.has_load_address = true;
	o.load_address = 0x20001000;
	cr_assert_eq(sign_image(out, &k, 77, &o), 0, "%s", ota_error_message());
	img = read_file(out, &len);
	check_layout(img, len, &o, &k, &x);
	cr_assert_eq(img[4], 0x00);
	cr_assert_eq(img[5], 0x10);
	cr_assert_eq(img[7], 0x20);
	cr_assert_eq(le16(img + 10), 0, "no protected TLVs, no area");
	assert_verifies(out, k.public_key);
	free(img);

	o.rom_fixed = true;
	x.flags = 0x100;
	cr_assert_eq(sign_image(out, &k, 77, &o), 0, "%s", ota_error_message());
	img = read_file(out, &len);
	check_layout(img, len, &o, &k, &x);
	assert_verifies(out, k.public_key);
	free(img);
	free_key(&k);
}

Test(mcuboot_write, p384_uses_sha384)
{
	struct ota_mcuboot_opts o = base_opts();
	struct expect x = { "SHA384", 0x11, 0x22, 0, 0, 333 };
	const char *out = signed_path;
	struct ota_mcuboot_info info;
	struct test_key k;
	uint8_t *img;
	size_t len;

	make_key(&k, K_P384, "p384");
	o.has_security_counter = true;
	o.security_counter = 9;
	cr_assert_eq(sign_image(out, &k, 333, &o), 0, "%s",
		     ota_error_message());
	img = read_file(out, &len);
	check_layout(img, len, &o, &k, &x);
	cr_assert_eq(verify_with(out, &k.public_key, 1, &info), 0, "%s",
		     ota_error_message());
	cr_assert_eq(info.hash_alg, OTA_DIGEST_SHA384);
	free(img);
	free_key(&k);
}

static void rsa_case(enum kind kind, uint16_t sig_tlv, size_t sig_len)
{
	struct ota_mcuboot_opts o = base_opts();
	struct expect x = { "SHA256", 0x10, sig_tlv, sig_len, 0, 4096 };
	const char *out = signed_path;
	struct test_key k;
	struct layout l;
	uint8_t *img, *pkcs1, kh[32];
	size_t len, pkcs1_len;

	make_key(&k, kind, "rsa");
	cr_assert_eq(sign_image(out, &k, 4096, &o), 0, "%s",
		     ota_error_message());
	img = read_file(out, &len);
	l = check_layout(img, len, &o, &k, &x);

	/* KEYHASH is over PKCS#1 RSAPublicKey, as the openssl CLI writes it. */
	cr_assert_eq(run("openssl rsa -pubin -in %s -RSAPublicKey_out "
			 "-outform DER -out %s 2>/dev/null",
			 k.pub, in_tmp("pkcs1.der")),
		     0);
	pkcs1 = read_file(in_tmp("pkcs1.der"), &pkcs1_len);
	md_of(kh, "SHA256", pkcs1, pkcs1_len);
	cr_assert_arr_eq(img + l.key_off + 4, kh, 32);
	free(pkcs1);

	/* PSS with salt length 32, checked by the openssl CLI. */
	{
		uint8_t dg[32];

		md_of(dg, "SHA256", img, l.unprot_off);
		write_file(in_tmp("digest.bin"), dg, 32);
		write_file(in_tmp("sig.bin"), img + l.sig_off + 4, l.sig_len);
		cr_assert_eq(
		    run("openssl pkeyutl -verify -pubin -inkey %s -in %s "
			"-sigfile %s -pkeyopt digest:sha256 "
			"-pkeyopt rsa_padding_mode:pss "
			"-pkeyopt rsa_pss_saltlen:32 >/dev/null 2>&1",
			k.pub, in_tmp("digest.bin"), in_tmp("sig.bin")),
		    0, "PSS salt 32 signature refused by openssl");
	}
	assert_verifies(out, k.public_key);

	/* The same key with PUBKEY: the PKCS#1 DER itself. */
	o.public_key_tlv = true;
	cr_assert_eq(sign_image(out, &k, 4096, &o), 0, "%s",
		     ota_error_message());
	free(img);
	img = read_file(out, &len);
	check_layout(img, len, &o, &k, &x);
	assert_verifies(out, k.public_key);
	free(img);
	free_key(&k);
}

Test(mcuboot_write, rsa2048_pss)
{
	rsa_case(K_RSA2048, 0x20, 256);
}

Test(mcuboot_write, rsa3072_pss)
{
	rsa_case(K_RSA3072, 0x23, 384);
}

Test(mcuboot_write, ed25519_and_pubkey)
{
	struct ota_mcuboot_opts o = base_opts();
	struct expect x = { "SHA256", 0x10, 0x24, 64, 0, 5 };
	const char *out = signed_path;
	struct ota_mcuboot_info info;
	struct test_key k;
	uint8_t *img;
	size_t len;

	make_key(&k, K_ED25519, "ed");
	o.n_deps = 1;
	o.deps[0] = (struct ota_mcuboot_dep){ 0, { 1, 0, 0, 0 } };
	cr_assert_eq(sign_image(out, &k, 5, &o), 0, "%s", ota_error_message());
	img = read_file(out, &len);
	check_layout(img, len, &o, &k, &x);
	assert_verifies(out, k.public_key);
	free(img);

	o.public_key_tlv = true;
	cr_assert_eq(sign_image(out, &k, 5, &o), 0, "%s", ota_error_message());
	img = read_file(out, &len);
	check_layout(img, len, &o, &k, &x);
	cr_assert_eq(verify_with(out, &k.public_key, 1, &info), 0, "%s",
		     ota_error_message());
	cr_assert(info.has_pubkey);
	cr_assert_not(info.has_keyhash);
	free(img);
	free_key(&k);
}

Test(mcuboot_write, streams_a_large_payload)
{
	struct ota_mcuboot_opts o = base_opts();
	size_t n = 600 * 1024 + 3;
	struct expect x = { "SHA256", 0x10, 0x24, 64, 0, n };
	const char *out = signed_path;
	struct test_key k;
	uint8_t *img;
	size_t len;

	make_key(&k, K_ED25519, "ed");
	cr_assert_eq(sign_image(out, &k, n, &o), 0, "%s", ota_error_message());
	img = read_file(out, &len);
	check_layout(img, len, &o, &k, &x);
	assert_verifies(out, k.public_key);
	free(img);
	free_key(&k);
}

Test(mcuboot_write, rsa4096_refused)
{
	struct ota_mcuboot_opts o = base_opts();
	const char *out = signed_path;
	struct test_key k;
	int before;

	make_key(&k, K_RSA4096, "rsa4096");
	before = count_entries();
	cr_assert_eq(sign_image(out, &k, 100, &o), OTA_EKEY);
	cr_assert(strstr(ota_error_message(), "RSA-4096"), "%s",
		  ota_error_message());
	cr_assert(strstr(ota_error_message(), "RSA-2048 and RSA-3072"));
	cr_assert_not(exists(out));
	cr_assert_eq(count_entries(), before + 1, "only payload.bin added");
	free_key(&k);
}

Test(mcuboot_write, rsa_pkcs1_refused)
{
	struct ota_mcuboot_opts o = base_opts();
	const char *out = signed_path;
	struct test_key k;

	make_key_opts(&k, K_RSA2048, "rsa", true);
	cr_assert_eq(ota_key_alg(k.key), OTA_SIG_RSA_PKCS1_SHA256);
	cr_assert_eq(sign_image(out, &k, 100, &o), OTA_EKEY);
	cr_assert(strstr(ota_error_message(), "PKCS#1 v1.5"), "%s",
		  ota_error_message());
	cr_assert_not(exists(out));
	free_key(&k);
}

/*
 * imgtool's swap trailer: 128 sectors x 3 x align + 4 x max(8, align) +
 * align_up(16, max(8, align)). Ed25519 signatures are always 64 bytes, so
 * the boundary is exact.
 */
Test(mcuboot_write, slot_size_boundary)
{
	struct ota_mcuboot_opts o = base_opts();
	const char *out = signed_path;
	size_t total = 0x200 + 1001 + (4 + 36 + 36 + 68);
	struct test_key k;
	uint8_t *img;
	size_t len;

	make_key(&k, K_ED25519, "ed");
	cr_assert_eq(sign_image(out, &k, 1001, &o), 0);
	img = read_file(out, &len);
	free(img);
	cr_assert_eq(len, total);

	/* align 8: 1657 -> 1664, trailer 3072 + 32 + 16 = 3120. */
	unlink(out);
	o.slot_size = 1664 + 3120 - 1;
	cr_assert_eq(sign_image(out, &k, 1001, &o), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "slot"), "%s",
		  ota_error_message());
	cr_assert_not(exists(out), "nothing written when it does not fit");
	o.slot_size = 1664 + 3120;
	cr_assert_eq(sign_image(out, &k, 1001, &o), 0, "%s",
		     ota_error_message());

	/* align 32: 1657 -> 1664, trailer 12288 + 128 + 32 = 12448. */
	unlink(out);
	o.align = 32;
	o.slot_size = 1664 + 12448 - 1;
	cr_assert_eq(sign_image(out, &k, 1001, &o), OTA_EINPUT);
	cr_assert_not(exists(out));
	o.slot_size = 1664 + 12448;
	cr_assert_eq(sign_image(out, &k, 1001, &o), 0, "%s",
		     ota_error_message());

	/* align 1: no rounding; trailer 384 + 32 + 16 = 432. */
	unlink(out);
	o.align = 1;
	o.slot_size = 1657 + 432 - 1;
	cr_assert_eq(sign_image(out, &k, 1001, &o), OTA_EINPUT);
	o.slot_size = 1657 + 432;
	cr_assert_eq(sign_image(out, &k, 1001, &o), 0, "%s",
		     ota_error_message());
	free_key(&k);
}

Test(mcuboot_write, bad_options_and_inputs)
{
	struct ota_mcuboot_opts o;
	const char *out = signed_path;
	struct test_key k;

	make_key(&k, K_P256, "p256");
	o = base_opts();
	o.header_size = 16;
	cr_assert_eq(sign_image(out, &k, 10, &o), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "header size 16"));
	o = base_opts();
	o.align = 3;
	cr_assert_eq(sign_image(out, &k, 10, &o), OTA_EINPUT);
	o = base_opts();
	o.align = 64;
	cr_assert_eq(sign_image(out, &k, 10, &o), OTA_EINPUT);
	o = base_opts();
	o.erased_value = 0x55;
	cr_assert_eq(sign_image(out, &k, 10, &o), OTA_EINPUT);
	o = base_opts();
	o.n_deps = OTA_MCUBOOT_MAX_DEPS + 1;
	cr_assert_eq(sign_image(out, &k, 10, &o), OTA_EINPUT);
	o = base_opts();
	o.rom_fixed = true;
	cr_assert_eq(sign_image(out, &k, 10, &o), OTA_EINPUT);
	o = base_opts();
	cr_assert_eq(sign_image(out, &k, 0, &o), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "empty"));
	cr_assert_eq(
	    mcuboot_write(out, in_tmp("missing"), k.key, &o, NULL, NULL),
	    OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "missing"));
	cr_assert_eq(mcuboot_write(out, tmpdir, k.key, &o, NULL, NULL),
		     OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "directory"));
	cr_assert_not(exists(out));
	/* Defaults: header 0x200 and alignment 1 when left at 0. */
	o.header_size = 0;
	o.align = 0;
	cr_assert_eq(sign_image(out, &k, 10, &o), 0, "%s", ota_error_message());
	assert_verifies(out, k.public_key);
	free_key(&k);
}

/* The public JSON text, read back as a document to look into. */
static json_t *info_doc(const struct ota_mcuboot_info *r)
{
	char *text = NULL;
	size_t len = 0;
	json_t *j;

	cr_assert_eq(ota_mcuboot_info_to_json(&text, &len, r), 0, "%s",
		     ota_error_message());
	cr_assert_eq(strlen(text), len);
	cr_assert_eq(text[len - 1], '\n', "canonical text ends a line");
	j = json_loads(text, 0, NULL);
	free(text);
	return j;
}

Test(mcuboot_write, info_json)
{
	struct ota_mcuboot_opts o = base_opts();
	const char *out = signed_path;
	struct ota_mcuboot_info info;
	struct test_key k;
	json_t *j, *d;
	char hex[65];

	make_key(&k, K_P256, "p256");
	o.has_security_counter = true;
	o.security_counter = 12;
	o.has_load_address = true;
	o.load_address = 0x1000;
	o.n_deps = 1;
	o.deps[0] = (struct ota_mcuboot_dep){ 3, { 4, 5, 6, 7 } };
	cr_assert_eq(sign_image(out, &k, 10, &o), 0);
	cr_assert_eq(verify_with(out, &k.public_key, 1, &info), 0);
	j = info_doc(&info);
	cr_assert_not_null(j);
	cr_assert_eq(json_integer_value(json_object_get(j, "file_size")),
		     (json_int_t)info.file_size);
	cr_assert_eq(json_integer_value(json_object_get(j, "load_address")),
		     0x1000);
	cr_assert_eq(json_integer_value(json_object_get(j, "header_size")),
		     0x200);
	cr_assert_eq(json_integer_value(json_object_get(j, "protect_tlv_size")),
		     4 + 8 + 16);
	cr_assert_eq(json_integer_value(json_object_get(j, "image_size")), 10);
	cr_assert_eq(json_integer_value(json_object_get(j, "flags")), 0x20);
	cr_assert_str_eq(json_string_value(json_array_get(
			     json_object_get(j, "flag_names"), 0)),
			 "RAM_LOAD");
	cr_assert_str_eq(json_string_value(json_object_get(
			     json_object_get(j, "version"), "text")),
			 "1.2.3+4");
	cr_assert_eq(json_integer_value(json_object_get(
			 json_object_get(j, "version"), "revision")),
		     3);
	cr_assert_eq(json_integer_value(json_object_get(j, "security_counter")),
		     12);
	d = json_array_get(json_object_get(j, "dependencies"), 0);
	cr_assert_eq(json_integer_value(json_object_get(d, "image_id")), 3);
	cr_assert_str_eq(json_string_value(json_object_get(
			     json_object_get(d, "min_version"), "text")),
			 "4.5.6+7");
	cr_assert_str_eq(json_string_value(json_object_get(j, "hash_alg")),
			 "sha256");
	ota_hex_encode(hex, info.hash, 32);
	cr_assert_str_eq(json_string_value(json_object_get(j, "hash")), hex);
	cr_assert(json_is_true(json_object_get(j, "hash_ok")));
	cr_assert_str_eq(json_string_value(json_object_get(j, "key_tlv")),
			 "KEYHASH");
	ota_hex_encode(hex, info.keyhash, 32);
	cr_assert_str_eq(json_string_value(json_object_get(j, "keyhash")), hex);
	cr_assert_eq(json_integer_value(json_object_get(j, "trusted_key")), 0);
	cr_assert_eq(json_integer_value(json_object_get(j, "signature_type")),
		     0x22);
	cr_assert_str_eq(
	    json_string_value(json_object_get(j, "signature_type_name")),
	    "ECDSA_SIG");
	cr_assert(json_is_true(json_object_get(j, "signature_ok")));
	json_decref(j);

	/* Inspect: no key checked, absent fields are null. */
	cr_assert_eq(verify_with(out, NULL, 0, &info), 0);
	info.has_security_counter = false;
	j = info_doc(&info);
	cr_assert(json_is_null(json_object_get(j, "trusted_key")));
	cr_assert(json_is_null(json_object_get(j, "security_counter")));
	cr_assert(json_is_false(json_object_get(j, "signature_ok")));
	json_decref(j);
	free_key(&k);
}

/* ---- verifying -------------------------------------------------------- */

/* A small signed image for tampering, with its layout. */
static uint8_t *small_image(const char *out, struct test_key *k, enum kind kind,
			    size_t *len, struct layout *l)
{
	struct ota_mcuboot_opts o = base_opts();
	struct expect x = { "SHA256",
			    0x10,
			    kind == K_ED25519 ? 0x24 : 0x22,
			    kind == K_ED25519 ? 64 : 0,
			    0,
			    24 };
	uint8_t *img;

	make_key(k, kind, kind == K_ED25519 ? "ed" : "p256");
	o.header_size = 32;
	o.has_security_counter = true;
	o.security_counter = 5;
	o.n_deps = 1;
	o.deps[0] = (struct ota_mcuboot_dep){ 1, { 1, 0, 0, 0 } };
	cr_assert_eq(sign_image(out, k, 24, &o), 0, "%s", ota_error_message());
	img = read_file(out, len);
	*l = check_layout(img, *len, &o, k, &x);
	return img;
}

/* Writes a modified copy and returns what verifying it with pkey says. */
static int verify_bytes(const uint8_t *img, size_t len,
			struct ota_public_key *pub)
{
	const char *path = in_tmp("tampered.bin");

	write_file(path, img, len);
	return verify_with(path, &pub, pub ? 1 : 0, NULL);
}

static void assert_refused(int rc, const char *what, const char *needle)
{
	cr_assert_eq(rc, OTA_EVERIFY, "%s: rc %d (%s)", what, rc,
		     ota_error_message());
	cr_assert(strstr(ota_error_message(), needle), "%s: \"%s\" lacks %s",
		  what, ota_error_message(), needle);
}

Test(mcuboot_verify, tampered_payload_and_signature)
{
	const char *out = signed_path;
	struct test_key k;
	struct layout l;
	size_t len;
	uint8_t *img = small_image(out, &k, K_P256, &len, &l);

	cr_assert_eq(verify_bytes(img, len, k.public_key), 0);
	img[32 + 3] ^= 0x40;
	assert_refused(verify_bytes(img, len, k.public_key), "payload",
		       "image hash does not match");
	cr_assert(strstr(ota_error_message(), "tampered.bin: offset "));
	img[32 + 3] ^= 0x40;
	img[l.sig_off + 4 + l.sig_len - 3] ^= 0x01;
	assert_refused(verify_bytes(img, len, k.public_key), "signature",
		       "does not verify");
	img[l.sig_off + 4 + l.sig_len - 3] ^= 0x01;
	/* The hash TLV itself. */
	img[l.hash_off + 4] ^= 0x80;
	assert_refused(verify_bytes(img, len, k.public_key), "hash TLV",
		       "image hash does not match");
	free(img);
	free_key(&k);
}

Test(mcuboot_verify, wrong_and_other_keys)
{
	const char *out = signed_path;
	struct test_key k, other, p384;
	struct layout l;
	size_t len, der_len;
	uint8_t *img = small_image(out, &k, K_P256, &len, &l), *der;
	struct ota_mcuboot_info info;
	struct ota_public_key *both[2];

	make_key(&other, K_P256, "other");
	assert_refused(verify_bytes(img, len, other.public_key), "wrong key",
		       "matches none of the 1 trusted keys");

	/* Trusting several: the one KEYHASH names is used. */
	both[0] = other.public_key;
	both[1] = k.public_key;
	cr_assert_eq(verify_with(out, both, 2, &info), 0, "%s",
		     ota_error_message());
	cr_assert_eq(info.trusted_key, 1);

	/* KEYHASH naming another key: no match, or a bad signature. */
	der = key_der(other.pkey, &der_len);
	md_of(img + l.key_off + 4, "SHA256", der, der_len);
	OPENSSL_free(der);
	assert_refused(verify_bytes(img, len, k.public_key), "keyhash of other",
		       "KEYHASH matches none");
	write_file(in_tmp("tampered.bin"), img, len);
	assert_refused(verify_with(in_tmp("tampered.bin"), both, 2, &info),
		       "keyhash of other, both trusted", "does not verify");
	cr_assert_eq(info.trusted_key, 0);
	cr_assert_not(info.signature_ok);

	/* A P-384 key expects SHA-384 images. */
	make_key(&p384, K_P384, "p384");
	assert_refused(verify_with(out, &p384.public_key, 1, NULL),
		       "p384 trust", "sha384");
	free(img);
	free_key(&k);
	free_key(&other);
	free_key(&p384);
}

Test(mcuboot_verify, protect_tlv_size_mismatch)
{
	const char *out = signed_path;
	struct test_key k;
	struct layout l;
	size_t len;
	uint8_t *img = small_image(out, &k, K_ED25519, &len, &l);
	uint16_t prot = le16(img + 10);

	cr_assert_eq(prot, 4 + 8 + 16);
	set16(img + 10, 0);
	assert_refused(verify_bytes(img, len, k.public_key), "size 0",
		       "protect_tlv_size is 0");
	set16(img + 10, (uint16_t)(prot + 4));
	assert_refused(verify_bytes(img, len, k.public_key), "size +4",
		       "does not match the header's protect_tlv_size");
	set16(img + 10, (uint16_t)(prot - 4));
	assert_refused(verify_bytes(img, len, k.public_key), "size -4",
		       "protect_tlv_size");
	set16(img + 10, 2);
	assert_refused(verify_bytes(img, len, k.public_key), "size 2",
		       "offset 10");
	free(img);
	free_key(&k);
}

Test(mcuboot_verify, lengths_past_eof)
{
	const char *out = signed_path;
	struct test_key k;
	struct layout l;
	size_t len;
	uint8_t *img = small_image(out, &k, K_ED25519, &len, &l);
	char where[64];

	/* The signature TLV's length. */
	set16(img + l.sig_off + 2, 0xffff);
	snprintf(where, sizeof(where), "offset %zu:", l.sig_off + 2);
	assert_refused(verify_bytes(img, len, k.public_key), "sig len", where);
	cr_assert(strstr(ota_error_message(), "runs past"));
	set16(img + l.sig_off + 2, 64);
	/* The unprotected area's total length. */
	set16(img + l.unprot_off + 2, (uint16_t)(len - l.unprot_off + 1));
	snprintf(where, sizeof(where), "offset %zu:", l.unprot_off + 2);
	assert_refused(verify_bytes(img, len, k.public_key), "area len", where);
	cr_assert(strstr(ota_error_message(), "past the end of the file"));
	set16(img + l.unprot_off + 2, (uint16_t)(len - l.unprot_off));
	/* img_size past the end. */
	img[12 + 2] = 0x01;
	assert_refused(verify_bytes(img, len, k.public_key), "img_size",
		       "offset 12:");
	img[12 + 2] = 0;
	/* A protected TLV running past its area. */
	set16(img + l.prot_off + 4 + 2, 200);
	assert_refused(verify_bytes(img, len, k.public_key), "prot tlv len",
		       "past the end of the protected area");
	set16(img + l.prot_off + 4 + 2, 4);
	cr_assert_eq(verify_bytes(img, len, k.public_key), 0, "%s",
		     ota_error_message());
	free(img);
	free_key(&k);
}

Test(mcuboot_verify, header_fields)
{
	const char *out = signed_path;
	struct test_key k;
	struct layout l;
	size_t len;
	uint8_t *img = small_image(out, &k, K_ED25519, &len, &l);

	img[0] ^= 1;
	assert_refused(verify_bytes(img, len, k.public_key), "magic",
		       "offset 0:");
	img[0] ^= 1;
	set16(img + 8, 31);
	assert_refused(verify_bytes(img, len, k.public_key), "hdr_size",
		       "offset 8:");
	set16(img + 8, 32);
	img[16] = 0x04;
	assert_refused(verify_bytes(img, len, k.public_key), "encrypted",
		       "offset 16:");
	img[16] = 0;
	cr_assert_eq(verify_bytes(img, len, k.public_key), 0);
	free(img);
	free_key(&k);
}

/* A TLV area part: bytes taken from the image or given. */
struct part {
	const uint8_t *data;
	size_t len;
};

/* Replaces the unprotected TLV area by parts; returns the new length. */
static size_t recompose(uint8_t *dst, const uint8_t *img,
			const struct layout *l, const struct part *parts,
			size_t n)
{
	size_t off = l->unprot_off + 4;

	memcpy(dst, img, off);
	for (size_t i = 0; i < n; i++) {
		memcpy(dst + off, parts[i].data, parts[i].len);
		off += parts[i].len;
	}
	set16(dst + l->unprot_off + 2, (uint16_t)(off - l->unprot_off));
	return off;
}

Test(mcuboot_verify, unprotected_tlv_rules)
{
	const char *out = signed_path;
	static const uint8_t sec_cnt[] = { 0x50, 0, 4, 0, 99, 0, 0, 0 };
	static const uint8_t unknown[] = { 0x05, 0, 1, 0, 0 };
	static const uint8_t keyid[] = { 0x03, 0, 4, 0, 1, 2, 3, 4 };
	struct test_key k;
	struct layout l;
	size_t len, n;
	uint8_t *img = small_image(out, &k, K_ED25519, &len, &l);
	uint8_t *buf = malloc(len + 256);
	struct part hash = { img + l.hash_off, l.key_off - l.hash_off };
	struct part key = { img + l.key_off, l.sig_off - l.key_off };
	struct part sig = { img + l.sig_off, len - l.sig_off };

	cr_assert_not_null(buf);
	n = recompose(buf, img, &l, (struct part[]){ hash, key, sig }, 3);
	cr_assert_eq(n, len);
	cr_assert_arr_eq(buf, img, len, "recompose is the identity");
	cr_assert_eq(verify_bytes(buf, n, k.public_key), 0);

	n = recompose(buf, img, &l,
		      (struct part[]){ hash, key, sig, { sec_cnt, 8 } }, 4);
	assert_refused(verify_bytes(buf, n, k.public_key),
		       "SEC_CNT unprotected", "must be in the protected area");
	n = recompose(buf, img, &l,
		      (struct part[]){ hash, key, sig, { unknown, 5 } }, 4);
	assert_refused(verify_bytes(buf, n, k.public_key), "unknown type",
		       "not allowed in the unprotected area");
	n = recompose(buf, img, &l, (struct part[]){ hash, key, sig, key }, 4);
	assert_refused(verify_bytes(buf, n, k.public_key), "second key",
		       "second KEYHASH");
	n = recompose(buf, img, &l, (struct part[]){ hash, key, sig, sig }, 4);
	assert_refused(verify_bytes(buf, n, k.public_key), "second signature",
		       "second signature");
	n = recompose(buf, img, &l, (struct part[]){ hash, key, sig, hash }, 4);
	assert_refused(verify_bytes(buf, n, k.public_key), "second hash",
		       "second image hash");
	n = recompose(buf, img, &l, (struct part[]){ hash, sig, key }, 3);
	assert_refused(verify_bytes(buf, n, k.public_key), "signature first",
		       "before the KEYHASH");
	n = recompose(buf, img, &l, (struct part[]){ key, sig }, 2);
	assert_refused(verify_bytes(buf, n, k.public_key), "no hash",
		       "no image hash TLV");
	n = recompose(buf, img, &l, (struct part[]){ hash, sig }, 2);
	assert_refused(verify_bytes(buf, n, NULL), "no key, inspect",
		       "before the KEYHASH");
	n = recompose(buf, img, &l, (struct part[]){ hash, key }, 2);
	assert_refused(verify_bytes(buf, n, k.public_key), "no signature",
		       "no signature TLV");

	/* Unsigned (hash only) passes inspection, not verification. */
	n = recompose(buf, img, &l, (struct part[]){ hash }, 1);
	cr_assert_eq(verify_bytes(buf, n, NULL), 0, "%s", ota_error_message());
	assert_refused(verify_bytes(buf, n, k.public_key), "unsigned",
		       "no KEYHASH or PUBKEY");
	/* MCUboot tolerates KEYID and so do we; the order is free. */
	n = recompose(buf, img, &l,
		      (struct part[]){ { keyid, 8 }, key, sig, hash }, 4);
	cr_assert_eq(verify_bytes(buf, n, k.public_key), 0, "%s",
		     ota_error_message());
	free(buf);
	free(img);
	free_key(&k);
}

Test(mcuboot_verify, truncated_at_every_length)
{
	const char *out = signed_path;
	struct test_key k;
	struct layout l;
	size_t len;
	uint8_t *img = small_image(out, &k, K_ED25519, &len, &l);

	for (size_t n = 0; n < len; n++) {
		int rc = verify_bytes(img, n, k.public_key);

		cr_assert_eq(rc, OTA_EVERIFY, "truncated to %zu: rc %d", n, rc);
		cr_assert(strstr(ota_error_message(), "offset "), "%zu: %s", n,
			  ota_error_message());
		cr_assert_eq(verify_bytes(img, n, NULL), OTA_EVERIFY,
			     "inspect of %zu bytes", n);
	}
	cr_assert_eq(verify_bytes(img, len, k.public_key), 0, "%s",
		     ota_error_message());
	free(img);
	free_key(&k);
}

static void every_bit_flip(enum kind kind)
{
	const char *out = signed_path;
	struct test_key k;
	struct layout l;
	size_t len;
	uint8_t *img = small_image(out, &k, kind, &len, &l);

	cr_assert_eq(verify_bytes(img, len, k.public_key), 0);
	for (size_t i = 0; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			int rc;

			img[i] ^= (uint8_t)(1u << b);
			rc = verify_bytes(img, len, k.public_key);
			img[i] ^= (uint8_t)(1u << b);
			cr_assert_eq(rc, OTA_EVERIFY,
				     "flip of bit %d at offset %zu accepted "
				     "(rc %d)",
				     b, i, rc);
		}
	}
	free(img);
	free_key(&k);
}

Test(mcuboot_verify, every_bit_flip_ed25519)
{
	every_bit_flip(K_ED25519);
}

Test(mcuboot_verify, every_bit_flip_p256)
{
	every_bit_flip(K_P256);
}

Test(mcuboot_verify, security_counter_policy)
{
	const char *out = signed_path;
	struct ota_mcuboot_policy p = { .check_counter = true };
	struct test_key k;
	struct layout l;
	size_t len;
	uint8_t *img = small_image(out, &k, K_ED25519, &len, &l);

	p.trusted = &k.public_key;
	p.n_trusted = 1;
	p.counter = 5;
	cr_assert_eq(ota_mcuboot_verify(NULL, out, &p, NULL, NULL), 0);
	p.counter = 4;
	cr_assert_eq(ota_mcuboot_verify(NULL, out, &p, NULL, NULL), 0);
	p.counter = 6;
	cr_assert_eq(ota_mcuboot_verify(NULL, out, &p, NULL, NULL),
		     OTA_EROLLBACK);
	cr_assert(strstr(ota_error_message(), "security counter 5"), "%s",
		  ota_error_message());
	p.check_counter = false;
	cr_assert_eq(ota_mcuboot_verify(NULL, out, &p, NULL, NULL), 0);
	free(img);

	/* No SEC_CNT at all counts as 0. */
	{
		struct ota_mcuboot_opts o = base_opts();

		cr_assert_eq(sign_image(out, &k, 10, &o), 0);
		p.check_counter = true;
		p.counter = 1;
		cr_assert_eq(ota_mcuboot_verify(NULL, out, &p, NULL, NULL),
			     OTA_EROLLBACK);
		cr_assert(strstr(ota_error_message(), "no security counter"));
		p.counter = 0;
		cr_assert_eq(ota_mcuboot_verify(NULL, out, &p, NULL, NULL), 0);
	}
	free_key(&k);
}

/* imgtool --pad: erased bytes up to the slot end, boot magic last. */
Test(mcuboot_verify, padded_images)
{
	static const uint8_t magic[16] = { 0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2,
					   0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f,
					   0x2c, 0xb6, 0x79, 0x80 };
	const char *out = signed_path;
	struct test_key k;
	struct layout l;
	size_t len, pad = 200 * 1024;
	uint8_t *img = small_image(out, &k, K_ED25519, &len, &l);
	uint8_t *big = malloc(len + pad);
	char where[64];

	cr_assert_not_null(big);
	memcpy(big, img, len);
	memset(big + len, 0xff, pad);
	cr_assert_eq(verify_bytes(big, len + 100, k.public_key), 0, "%s",
		     ota_error_message());
	cr_assert_eq(verify_bytes(big, len + pad, k.public_key), 0, "%s",
		     ota_error_message());
	memcpy(big + len + pad - 16, magic, 16);
	cr_assert_eq(verify_bytes(big, len + pad, k.public_key), 0, "%s",
		     ota_error_message());
	big[len + pad - 24] = 0x01; /* image_ok (--confirm) */
	cr_assert_eq(verify_bytes(big, len + pad, k.public_key), 0, "%s",
		     ota_error_message());
	big[len + pad - 25] = 0x01;
	snprintf(where, sizeof(where), "offset %zu:", len + pad - 25);
	assert_refused(verify_bytes(big, len + pad, k.public_key), "stray byte",
		       where);
	big[len + pad - 25] = 0xff;

	/* A stray byte far past the TLV window. */
	big[len + 100000] = 0xfe;
	snprintf(where, sizeof(where), "offset %zu:", len + 100000);
	assert_refused(verify_bytes(big, len + pad, k.public_key), "far byte",
		       where);
	big[len + 100000] = 0xff;

	/* Zero padding, and data after the TLVs. */
	memset(big + len, 0, 64);
	cr_assert_eq(verify_bytes(big, len + 64, k.public_key), 0, "%s",
		     ota_error_message());
	big[len + 10] = 0xff;
	assert_refused(verify_bytes(big, len + 64, k.public_key),
		       "mixed padding", "not erased padding");
	big[len] = 0x42;
	assert_refused(verify_bytes(big, len + 1, k.public_key), "trailing",
		       "trailing data");
	free(big);
	free(img);
	free_key(&k);
}

Test(mcuboot_verify, inspect_without_keys)
{
	const char *out = signed_path;
	struct ota_mcuboot_info info;
	struct test_key k;
	struct layout l;
	size_t len;
	uint8_t *img = small_image(out, &k, K_P256, &len, &l);

	cr_assert_eq(verify_with(out, NULL, 0, &info), 0, "%s",
		     ota_error_message());
	cr_assert(info.hash_ok);
	cr_assert_not(info.signature_ok);
	cr_assert_eq(info.trusted_key, -1);
	cr_assert_eq(info.sig_type, 0x22);
	cr_assert_eq(
	    ota_mcuboot_verify(&info, in_tmp("none"), NULL, NULL, NULL),
	    OTA_EINPUT);
	free(img);
	free_key(&k);
}

/* ---- One image of a release (ota_mcuboot_write_release) ---------------- */

/* A release of version 1.2.3 with the images given as NAME:KIND:FILE. */
static struct ota_manifest *release_of(const char *const *images, size_t n)
{
	struct ota_manifest *m = NULL;

	cr_assert_eq(ota_manifest_new(&m), 0);
	cr_assert_eq(ota_manifest_set(m, "version", "1.2.3", "test"), 0);
	cr_assert_eq(ota_manifest_set(m, "security-counter", "9", "test"), 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(ota_manifest_set(m, "image", images[i], "test"), 0,
			     "%s", ota_error_message());
	return m;
}

static int write_release(struct ota_manifest *m, const char *image,
			 struct ota_key **keys, size_t n_keys)
{
	struct ota_mcuboot_opts o = base_opts();
	struct ota_signers *s = NULL;
	int rc;

	cr_assert_eq(ota_signers_wrap(&s, keys, n_keys), 0);
	ota_input_forget_all();
	rc = ota_mcuboot_write_release(signed_path, m, "rel.yaml", image, 4, s,
				       &o, NULL, NULL);
	ota_signers_free(s);
	return rc;
}

Test(mcuboot_write, release_picks_the_application_image)
{
	char app[600], cfg[600];
	const char *imgs[] = { cfg, app };
	struct ota_manifest *m;
	struct test_key k;
	uint8_t *payload = make_payload(64), hdr[32];
	FILE *f;

	make_key(&k, K_ED25519, "ed");
	write_file(in_tmp("app.bin"), payload, 64);
	write_file(in_tmp("cfg.bin"), payload, 32);
	snprintf(app, sizeof(app), "app:application:%s:0x08020000",
		 in_tmp("app.bin"));
	snprintf(cfg, sizeof(cfg), "cfg:config:%s", in_tmp("cfg.bin"));
	m = release_of(imgs, 2);
	cr_assert_eq(write_release(m, NULL, &k.key, 1), 0, "%s",
		     ota_error_message());
	f = fopen(signed_path, "rb");
	cr_assert_not_null(f);
	cr_assert_eq(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
	fclose(f);
	/* ih_load_addr, ih_img_size, ih_ver: 1.2.3 and the build number 4 */
	cr_assert_eq(hdr[4] | hdr[5] << 8 | hdr[6] << 16 |
			 (uint32_t)hdr[7] << 24,
		     0x08020000u);
	cr_assert_eq(hdr[12] | hdr[13] << 8, 64);
	cr_assert_eq(hdr[20], 1);
	cr_assert_eq(hdr[21], 2);
	cr_assert_eq(hdr[22] | hdr[23] << 8, 3);
	cr_assert_eq(hdr[24], 4);
	/* --image chooses another one. */
	cr_assert_eq(write_release(m, "cfg", &k.key, 1), 0, "%s",
		     ota_error_message());
	cr_assert_eq(write_release(m, "nope", &k.key, 1), OTA_EUSAGE);
	cr_assert(strstr(ota_error_message(), "--image nope"), "%s",
		  ota_error_message());
	ota_manifest_free(m);
	free(payload);
	free_key(&k);
}

Test(mcuboot_write, release_refusals)
{
	char a[600], b[600];
	const char *two[] = { a, b }, *far[] = { a };
	struct ota_manifest *m;
	struct test_key k, k2;
	struct ota_key *both[2];
	uint8_t *payload = make_payload(16);

	make_key(&k, K_ED25519, "ed");
	make_key(&k2, K_P256, "p256");
	write_file(in_tmp("x.bin"), payload, 16);
	snprintf(a, sizeof(a), "a:config:%s", in_tmp("x.bin"));
	snprintf(b, sizeof(b), "b:config:%s", in_tmp("x.bin"));
	m = release_of(two, 2);
	cr_assert_eq(write_release(m, NULL, &k.key, 1), OTA_EUSAGE);
	cr_assert(strstr(ota_error_message(), "rel.yaml: several images"), "%s",
		  ota_error_message());
	both[0] = k.key;
	both[1] = k2.key;
	cr_assert_eq(write_release(m, "a", both, 2), OTA_EUSAGE);
	cr_assert(strstr(ota_error_message(), "one signature"), "%s",
		  ota_error_message());
	ota_manifest_free(m);
	snprintf(a, sizeof(a), "a:application:%s:0x100000000", in_tmp("x.bin"));
	m = release_of(far, 1);
	cr_assert_eq(write_release(m, NULL, &k.key, 1), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "32 bits"), "%s",
		  ota_error_message());
	ota_manifest_free(m);
	free(payload);
	free_key(&k);
	free_key(&k2);
}

/* ---- encryption ------------------------------------------------------- */

TestSuite(mcuboot_crypt, .init = setup, .fini = teardown, .timeout = 120);

/* A device key pair of kind ("EC" P-256, "X25519", "RSA") in files. */
struct device_key {
	EVP_PKEY *pkey;
	struct ota_recipient *to;
	struct ota_decrypt_key *key;
	char priv[512], pub[512];
};

static void make_device(struct device_key *d, const char *kind,
			unsigned hmac_bits, const char *name)
{
	FILE *f;

	d->pkey = strcmp(kind, "EC") == 0
		      ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
		  : strcmp(kind, "RSA") == 0
		      ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
		      : EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	cr_assert_not_null(d->pkey);
	snprintf(d->priv, sizeof(d->priv), "%s/%s.key", tmpdir, name);
	snprintf(d->pub, sizeof(d->pub), "%s/%s.pub", tmpdir, name);
	f = fopen(d->priv, "w");
	cr_assert(PEM_write_PrivateKey(f, d->pkey, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	f = fopen(d->pub, "w");
	cr_assert(PEM_write_PUBKEY(f, d->pkey));
	fclose(f);
	cr_assert_eq(ota_recipient_load(&d->to, d->pub, hmac_bits), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_decrypt_key_open(&d->key, d->priv, NULL), 0, "%s",
		     ota_error_message());
}

static void free_device(struct device_key *d)
{
	ota_recipient_free(d->to);
	ota_decrypt_key_free(d->key);
	EVP_PKEY_free(d->pkey);
}

static int verify_dec(const char *path, struct ota_public_key *trusted,
		      struct ota_decrypt_key *key,
		      struct ota_mcuboot_info *info)
{
	struct ota_mcuboot_policy p = { .trusted = &trusted,
					.n_trusted = trusted ? 1 : 0,
					.decrypt_key = key };

	return ota_mcuboot_verify(info, path, &p, NULL, NULL);
}

/* Finds the TLV of type in the unprotected area: its value's offset. */
static size_t find_tlv(const uint8_t *img, size_t len, uint16_t type,
		       uint16_t *tlv_len)
{
	size_t off = le16(img + 8) + le32(img + 12) + le16(img + 10);
	size_t end = off + le16(img + off + 2);

	cr_assert_leq(end, len);
	for (off += 4; off + 4 <= end; off += 4 + le16(img + off + 2))
		if (le16(img + off) == type) {
			*tlv_len = le16(img + off + 2);
			return off + 4;
		}
	return 0;
}

/*
 * Every wrap, both key lengths: the flag, the zero-padded img_size, the
 * key TLV last in the area, a ciphertext payload; decrypted here with
 * ota_unwrap() and AES-CTR it is the plaintext padded with zeros, and the
 * hash and signature are over that.
 */
static void encrypted_layout(const char *kind, unsigned hmac_bits, uint16_t tlv,
			     unsigned bits)
{
	struct ota_mcuboot_opts o = base_opts();
	struct device_key d;
	struct test_key k;
	struct ota_content_key ck;
	struct ota_mcuboot_info info;
	struct ota_ctr *ctr = NULL;
	const size_t plen = 1001, padded = 1008;
	uint8_t *img, *plain = make_payload(plen), *dec, dg[32];
	enum ota_wrap_scheme sch;
	uint16_t klen = 0, slen = 0, hlen = 0;
	size_t len, koff, soff, hoff, end;

	make_key(&k, K_P256, "signer");
	make_device(&d, kind, hmac_bits, "device");
	o.encrypt_to = d.to;
	o.encrypt_bits = bits;
	o.has_security_counter = true;
	o.security_counter = 3;
	cr_assert_eq(sign_image(signed_path, &k, plen, &o), 0, "%s",
		     ota_error_message());
	img = read_file(signed_path, &len);
	cr_assert_eq(le32(img + 16), bits == 256 ? 0x8u : 0x4u);
	cr_assert_eq(le32(img + 12), padded, "img_size padded to 16");
	cr_assert_neq(memcmp(img + 0x200, plain, plen), 0, "not encrypted");
	koff = find_tlv(img, len, tlv, &klen);
	cr_assert_neq(koff, 0, "no key TLV 0x%02x", tlv);
	cr_assert_eq(ota_wrap_scheme_of_tlv(&sch, tlv), 0);
	cr_assert_eq(klen, ota_wrap_len(sch, bits / 8, 2048));
	end = 0x200 + padded + le16(img + 10);
	cr_assert_eq(koff + klen, end + le16(img + end + 2),
		     "key TLV is the last one");

	cr_assert_eq(ota_unwrap(&ck, d.key, sch, img + koff, klen, bits / 8), 0,
		     "%s", ota_error_message());
	cr_assert_eq(ota_ctr_new(&ctr, &ck), 0);
	ota_content_key_wipe(&ck);
	dec = malloc(len);
	memcpy(dec, img, len);
	cr_assert_eq(ota_ctr_update(ctr, dec + 0x200, img + 0x200, padded), 0);
	ota_ctr_free(ctr);
	cr_assert_eq(memcmp(dec + 0x200, plain, plen), 0);
	for (size_t i = plen; i < padded; i++)
		cr_assert_eq(dec[0x200 + i], 0, "padding byte %zu", i);
	md_of(dg, "SHA256", dec, end);
	hoff = find_tlv(img, len, 0x10, &hlen);
	cr_assert_eq(memcmp(img + hoff, dg, 32), 0, "hash over the plaintext");
	soff = find_tlv(img, len, 0x22, &slen);
	cr_assert(sig_ok(k.pkey, "SHA256", dg, 32, img + soff, slen));

	/* verify: decrypted with the key, sealed without it. */
	cr_assert_eq(verify_dec(signed_path, k.public_key, d.key, &info), 0,
		     "%s", ota_error_message());
	cr_assert_eq(info.body, OTA_MCUBOOT_BODY_DECRYPTED);
	cr_assert(info.signature_ok && info.hash_ok);
	cr_assert_eq(info.enc_bits, bits);
	cr_assert_eq(info.enc_tlv, tlv);
	cr_assert_eq(verify_dec(signed_path, k.public_key, NULL, &info),
		     OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "give --decrypt-key with"), "%s",
		  ota_error_message());
	cr_assert_eq(info.body, OTA_MCUBOOT_BODY_SEALED);
	cr_assert(!info.signature_ok && !info.hash_ok);
	cr_assert_eq(info.trusted_key, 0, "the KEYHASH is still judged");
	cr_assert_eq(verify_dec(signed_path, NULL, NULL, &info), 0,
		     "inspect: %s", ota_error_message());
	cr_assert_eq(info.body, OTA_MCUBOOT_BODY_SEALED);
	free(dec);
	free(img);
	free(plain);
	free_device(&d);
	free_key(&k);
}

Test(mcuboot_crypt, ecies_p256_128)
{
	encrypted_layout("EC", 256, 0x32, 128);
}

Test(mcuboot_crypt, ecies_p256_256)
{
	encrypted_layout("EC", 256, 0x32, 256);
}

Test(mcuboot_crypt, ecies_x25519_128)
{
	encrypted_layout("X25519", 256, 0x33, 128);
}

Test(mcuboot_crypt, ecies_x25519_sha512_256)
{
	encrypted_layout("X25519", 512, 0x34, 256);
}

Test(mcuboot_crypt, rsa_oaep_256)
{
	encrypted_layout("RSA", 256, 0x30, 256);
}

Test(mcuboot_crypt, aes_kw_128)
{
	const char *kek = in_tmp("kek.b64");
	struct ota_mcuboot_opts o = base_opts();
	struct ota_recipient *to = NULL;
	struct ota_decrypt_key *key = NULL;
	struct ota_mcuboot_info info;
	struct test_key k;
	uint16_t klen = 0;
	uint8_t *img;
	size_t len;

	write_file(kek, "AAECAwQFBgcICQoLDA0ODw==\n", 25);
	make_key(&k, K_P256, "signer");
	cr_assert_eq(ota_recipient_load(&to, kek, 0), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_decrypt_key_open(&key, kek, NULL), 0);
	o.encrypt_to = to;
	cr_assert_eq(sign_image(signed_path, &k, 64, &o), 0);
	img = read_file(signed_path, &len);
	cr_assert_neq(find_tlv(img, len, 0x31, &klen), 0);
	cr_assert_eq(klen, 24);
	cr_assert_eq(le32(img + 12), 64, "a multiple of 16 is not padded");
	cr_assert_eq(verify_dec(signed_path, k.public_key, key, &info), 0, "%s",
		     ota_error_message());
	cr_assert_eq(info.body, OTA_MCUBOOT_BODY_DECRYPTED);
	free(img);
	ota_recipient_free(to);
	ota_decrypt_key_free(key);
	free_key(&k);
}

/* --clear: flag and key TLV, payload stored as it is; verifies keyless. */
Test(mcuboot_crypt, clear_factory_image)
{
	struct ota_mcuboot_opts o = base_opts();
	struct ota_mcuboot_info info;
	struct device_key d;
	struct test_key k;
	uint8_t *img, *plain = make_payload(100);
	uint16_t klen = 0;
	size_t len;

	make_key(&k, K_P256, "signer");
	make_device(&d, "EC", 0, "device");
	o.encrypt_to = d.to;
	o.encrypt_clear = true;
	cr_assert_eq(sign_image(signed_path, &k, 100, &o), 0);
	img = read_file(signed_path, &len);
	cr_assert_eq(le32(img + 16), 0x4u);
	cr_assert_eq(le32(img + 12), 112);
	cr_assert_eq(memcmp(img + 0x200, plain, 100), 0, "in the clear");
	cr_assert_neq(find_tlv(img, len, 0x32, &klen), 0);
	cr_assert_eq(verify_dec(signed_path, k.public_key, NULL, &info), 0,
		     "%s", ota_error_message());
	cr_assert_eq(info.body, OTA_MCUBOOT_BODY_CLEAR);
	cr_assert(info.signature_ok);
	cr_assert_eq(verify_dec(signed_path, k.public_key, d.key, &info), 0);
	cr_assert_eq(info.body, OTA_MCUBOOT_BODY_CLEAR);
	free(img);
	free(plain);
	free_device(&d);
	free_key(&k);
}

/* Wrong keys, altered key TLVs and ciphertext, inconsistent headers. */
Test(mcuboot_crypt, refusals)
{
	struct ota_mcuboot_opts o = base_opts();
	struct ota_mcuboot_info info;
	struct device_key d, other, x;
	struct test_key k;
	const char *bad = in_tmp("bad.bin");
	uint16_t klen = 0;
	uint8_t *img;
	size_t len, koff;

	make_key(&k, K_P256, "signer");
	make_device(&d, "EC", 0, "device");
	make_device(&other, "EC", 0, "other");
	make_device(&x, "X25519", 0, "x");
	o.encrypt_to = d.to;
	cr_assert_eq(sign_image(signed_path, &k, 200, &o), 0);
	img = read_file(signed_path, &len);
	koff = find_tlv(img, len, 0x32, &klen);

	cr_assert_eq(verify_dec(signed_path, k.public_key, other.key, &info),
		     OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "key TLV 0x32"), "%s",
		  ota_error_message());
	cr_assert_eq(verify_dec(signed_path, k.public_key, x.key, &info),
		     OTA_EKEY);
	cr_assert(strstr(ota_error_message(), "needs a P-256 private key"));

	for (size_t i = 0; i < klen; i += 7) {
		img[koff + i] ^= 0x10;
		write_file(bad, img, len);
		cr_assert_eq(verify_dec(bad, k.public_key, d.key, &info),
			     OTA_EVERIFY, "key TLV byte %zu", i);
		img[koff + i] ^= 0x10;
	}
	img[0x200 + 150] ^= 1;
	write_file(bad, img, len);
	cr_assert_eq(verify_dec(bad, k.public_key, d.key, &info), OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "with the payload decrypted"));
	cr_assert_eq(ota_mcuboot_extract(
			 &info, in_tmp("out.bin"), bad,
			 &(struct ota_mcuboot_policy){ .trusted = &k.public_key,
						       .n_trusted = 1,
						       .decrypt_key = d.key },
			 NULL, NULL),
		     OTA_EVERIFY);
	cr_assert(!exists(in_tmp("out.bin")), "nothing written");
	img[0x200 + 150] ^= 1;

	img[16] = 0x0c;
	write_file(bad, img, len);
	cr_assert_eq(verify_dec(bad, NULL, NULL, &info), OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "offset 16: flags"));
	img[16] = 0x08; /* AES-256, but a 16-byte key's TLV */
	write_file(bad, img, len);
	cr_assert_eq(verify_dec(bad, NULL, NULL, &info), OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "length 113, expected 129"), "%s",
		  ota_error_message());
	img[16] = 0x04;
	set16(img + koff - 4, 0x05); /* the key TLV becomes an unknown one */
	write_file(bad, img, len);
	cr_assert_eq(verify_dec(bad, NULL, NULL, &info), OTA_EVERIFY);
	free(img);
	free_device(&d);
	free_device(&other);
	free_device(&x);
	free_key(&k);
}

/* extract: the plaintext payload, only after everything verified. */
Test(mcuboot_crypt, extract_plaintext)
{
	struct ota_mcuboot_opts o = base_opts();
	struct ota_mcuboot_info info;
	struct device_key d;
	struct test_key k, other;
	const char *out = in_tmp("extracted.bin");
	uint8_t *got, *plain = make_payload(300000);
	size_t len;

	make_key(&k, K_P256, "signer");
	make_key(&other, K_P256, "other");
	make_device(&d, "X25519", 0, "device");
	o.encrypt_to = d.to;
	o.encrypt_bits = 256;
	cr_assert_eq(sign_image(signed_path, &k, 300000, &o), 0);
	cr_assert_eq(ota_mcuboot_extract(&info, out, signed_path,
					 &(struct ota_mcuboot_policy){
					     .trusted = &other.public_key,
					     .n_trusted = 1,
					     .decrypt_key = d.key },
					 NULL, NULL),
		     OTA_EVERIFY);
	cr_assert(!exists(out));
	cr_assert_eq(ota_mcuboot_extract(
			 &info, out, signed_path,
			 &(struct ota_mcuboot_policy){ .trusted = &k.public_key,
						       .n_trusted = 1,
						       .decrypt_key = d.key },
			 NULL, NULL),
		     0, "%s", ota_error_message());
	got = read_file(out, &len);
	cr_assert_eq(len, 300000, "300000 is a multiple of 16");
	cr_assert_eq(memcmp(got, plain, len), 0);
	free(got);
	free(plain);
	free_device(&d);
	free_key(&other);
	free_key(&k);
}

/* The trailer keeps two content keys: the slot check counts them. */
Test(mcuboot_crypt, slot_size_counts_the_keys)
{
	struct ota_mcuboot_opts o = base_opts();
	struct device_key d;
	struct test_key k;
	uint32_t fits;

	make_key(&k, K_P256, "signer");
	make_device(&d, "EC", 0, "device");
	/* Plain: the image and its trailer; the smallest slot that fits. */
	o.slot_size = UINT32_MAX;
	for (fits = 0x1000; fits < 0x10000; fits += 8) {
		o.slot_size = fits;
		if (sign_image(signed_path, &k, 1008, &o) == 0)
			break;
	}
	cr_assert_lt(fits, 0x10000u);
	o.encrypt_to = d.to;
	o.encrypt_bits = 256;
	o.slot_size = fits;
	/*
	 * The key TLV (4 + 129 bytes: 136 once aligned to 8) and two 32-byte
	 * keys in the trailer need 200 bytes more.
	 */
	cr_assert_eq(sign_image(signed_path, &k, 1008, &o), OTA_EINPUT);
	o.slot_size = fits + 136 + 64;
	cr_assert_eq(sign_image(signed_path, &k, 1008, &o), 0, "%s",
		     ota_error_message());
	o.slot_size -= 8;
	cr_assert_eq(sign_image(signed_path, &k, 1008, &o), OTA_EINPUT);
	free_device(&d);
	free_key(&k);
}

/*
 * imgtool --pad-sig: an ECDSA signature padded with zeros to 72 bytes
 * verifies (MCUboot reads the DER and ignores the rest); anything but
 * zeros after the DER is refused, naming the byte.
 */
Test(mcuboot_verify, padded_ecdsa_signature)
{
	const char *out = signed_path;
	struct test_key k;
	struct layout l;
	struct ota_mcuboot_info info;
	const char *path = in_tmp("padsig.bin");
	size_t len, n;
	uint8_t *img = small_image(out, &k, K_P256, &len, &l);
	uint8_t *buf = malloc(len + 256), sig[4 + 74] = { 0x22 };
	struct part hash = { img + l.hash_off, l.key_off - l.hash_off };
	struct part key = { img + l.key_off, l.sig_off - l.key_off };

	/* 72 as imgtool pads; a signature that is 72 already gets 2 more. */
	size_t plen = l.sig_len < 72 ? 72 : 74;

	sig[2] = (uint8_t)plen;
	memcpy(sig + 4, img + l.sig_off + 4, l.sig_len);
	n = recompose(buf, img, &l,
		      (struct part[]){ hash, key, { sig, 4 + plen } }, 3);
	write_file(path, buf, n);
	cr_assert_eq(verify_with(path, &k.public_key, 1, &info), 0, "%s",
		     ota_error_message());
	cr_assert(info.signature_ok);
	cr_assert_eq(info.sig_padding, plen - l.sig_len);
	sig[4 + plen - 1] = 1;
	n = recompose(buf, img, &l,
		      (struct part[]){ hash, key, { sig, 4 + plen } }, 3);
	assert_refused(verify_bytes(buf, n, k.public_key), "padding not zero",
		       "only zero padding (imgtool --pad-sig)");
	free(buf);
	free(img);
	free_key(&k);
}
