/*
 * Encrypted packages (format version 3, src/lib/package_crypt.c and the
 * device verifier's cipher callbacks): packages written by the library for
 * real recipient keys, read back by the library and by the device code
 * with host callbacks (AES-CTR and the unwrap through cipher.h), and
 * every single-bit change of a small encrypted package refused.
 */
#include <criterion/criterion.h>

#include "otatool/cipher.h"
#include "otatool/envelope.h"
#include "otatool/error.h"
#include "otatool/hex.h"
#include "otatool/key.h"
#include "otatool/manifest.h"
#include "otatool/package.h"
#include "otatool/signer.h"
#include "otatool/trust.h"
#include "otaverify.h"
#include "pkgbuild.h"

#include <openssl/pem.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MARKER "PLAINTEXT-MARKER-3141"

struct env {
	char dir[64];
	char sign[128], sign_pub[128], x[128], x_pub[128], kek[128];
	char rel[128], pkg[128], out[128];
	struct ota_signers *signers;
	struct ota_trust trust;
	uint8_t app[3000], cfg[700];
};

static void path(char *out, const struct env *e, const char *name)
{
	snprintf(out, 128, "%s/%s", e->dir, name);
}

static void put_file(const char *p, const void *data, size_t len)
{
	FILE *f = fopen(p, "wb");

	cr_assert_not_null(f, "%s", p);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static uint8_t *get_file(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *b;
	long n;

	cr_assert_not_null(f, "%s", p);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = malloc((size_t)n + 1);
	cr_assert_not_null(b);
	cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void env_init(struct env *e)
{
	char id[OTA_KEY_ID_LEN + 1];
	const char *keys[1];
	struct ota_signers_opts so = { 0 };
	static const char yaml[] = "name: fw\n"
				   "version: 1.0.0\n"
				   "hardware: [board]\n"
				   "security_counter: 1\n"
				   "images:\n"
				   "  - name: app\n"
				   "    kind: application\n"
				   "    file: app.bin\n"
				   "  - name: cfg\n"
				   "    kind: config\n"
				   "    file: cfg.bin\n"
				   "git:\n"
				   "  commit: 0123456789abcdef0123456789abcdef"
				   "01234567\n";
	char p[128];

	snprintf(e->dir, sizeof(e->dir), "/tmp/ota-pkgcrypt.XXXXXX");
	cr_assert_not_null(mkdtemp(e->dir));
	path(e->sign, e, "sign.pem");
	path(e->sign_pub, e, "sign.pub.pem");
	path(e->x, e, "x.pem");
	path(e->x_pub, e, "x.pub.pem");
	path(e->kek, e, "kek.b64");
	path(e->rel, e, "release.yaml");
	path(e->pkg, e, "p.otapkg");
	path(e->out, e, "out");
	cr_assert_eq(
	    ota_key_generate_file(id, "ecdsa-p256", e->sign, e->sign_pub), 0);
	cr_assert_eq(
	    ota_encrypt_key_generate_file(id, "x25519", e->x, e->x_pub), 0);
	cr_assert_eq(
	    ota_encrypt_key_generate_file(id, "aes-kw-128", e->kek, NULL), 0);
	for (size_t i = 0; i < sizeof(e->app); i++)
		e->app[i] = (uint8_t)(i * 7 + (i >> 8));
	memcpy(e->app + 100, MARKER, strlen(MARKER));
	memset(e->cfg, 'c', sizeof(e->cfg));
	memcpy(e->cfg, MARKER, strlen(MARKER));
	path(p, e, "app.bin");
	put_file(p, e->app, sizeof(e->app));
	path(p, e, "cfg.bin");
	put_file(p, e->cfg, sizeof(e->cfg));
	put_file(e->rel, yaml, strlen(yaml));
	keys[0] = e->sign;
	so.keys = keys;
	so.n_keys = 1;
	cr_assert_eq(ota_signers_open(&e->signers, &so), 0, "%s",
		     ota_error_message());
	ota_trust_init(&e->trust);
	cr_assert_eq(ota_signers_trust(&e->trust, e->signers), 0);
}

static void env_free(struct env *e)
{
	char cmd[128];

	ota_signers_free(e->signers);
	ota_trust_clear(&e->trust);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	cr_assert_eq(system(cmd), 0);
}

/* Writes e->pkg for the recipients (file refs), with opts' extras. */
static void write_pkg(struct env *e, const char *const *refs, size_t n,
		      struct ota_package_opts *o)
{
	struct ota_resolve_opts ro = { .skip_digests = true };
	struct ota_recipient *r[OTA_PACKAGE_MAX_RECIPIENTS];
	struct ota_manifest *m = NULL;

	cr_assert_eq(
	    ota_manifest_load_input(&m, e->rel, &ro, &e->trust, e->signers), 0,
	    "%s", ota_error_message());
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(ota_recipient_load(&r[i], refs[i], 0), 0, "%s",
			     ota_error_message());
	o->recipients = (const struct ota_recipient *const *)r;
	o->n_recipients = n;
	unlink(e->pkg);
	cr_assert_eq(ota_package_write(e->pkg, m, e->signers, o), 0, "%s",
		     ota_error_message());
	for (size_t i = 0; i < n; i++)
		ota_recipient_free(r[i]);
	ota_manifest_free(m);
}

static int check(struct ota_package_report *r, const struct env *e,
		 const char *key, const char *extract_dir)
{
	struct ota_package_check_opts o = { .trust = &e->trust,
					    .extract_dir = extract_dir };
	struct ota_decrypt_key *k = NULL;
	int rc;

	if (key)
		cr_assert_eq(ota_decrypt_key_open(&k, key, NULL), 0, "%s",
			     ota_error_message());
	o.decrypt_key = k;
	rc = ota_package_check(r, e->pkg, &o);
	ota_decrypt_key_free(k);
	return rc;
}

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t l = strlen(needle);

	for (size_t i = 0; i + l <= n; i++)
		if (memcmp(hay + i, needle, l) == 0)
			return true;
	return false;
}

Test(package_crypt, round_trip_for_two_recipients)
{
	struct ota_package_opts o = { .alignment = 64,
				      .compress_all = false,
				      .encrypt_bits = 256 };
	const char *cfg_only[] = { "cfg" };
	struct ota_package_report r;
	struct ota_recipient *rx;
	uint8_t id[32], *pkg, *got;
	char hex[65], p[160];
	struct env e;
	size_t len, n;

	env_init(&e);
	const char *refs[] = { e.x_pub, e.kek };
	o.compress = cfg_only;
	o.n_compress = 1;
	write_pkg(&e, refs, 2, &o);
	pkg = get_file(e.pkg, &len);
	cr_assert(!contains(pkg, len, MARKER), "plaintext in the package");
	cr_assert_eq(pkg[4] | pkg[5] << 8, OTAPKG_VERSION_CRYPT);
	free(pkg);

	/* Without a key: authentic, stored digests checked, not decrypted. */
	cr_assert_eq(check(&r, &e, NULL, NULL), 0, "%s", r.error);
	cr_assert_eq(r.format_version, 3);
	cr_assert_eq(r.n_images, 2);
	cr_assert(ota_package_report_has_encrypted(&r));
	for (size_t i = 0; i < 2; i++) {
		cr_assert(r.images[i].encrypted);
		cr_assert(r.images[i].stored_ok);
		cr_assert(!r.images[i].flashed_ok);
		cr_assert(!r.images[i].decrypted);
		cr_assert_eq(r.images[i].key_len, 32);
		cr_assert_eq(r.images[i].n_keys, 2);
		cr_assert_eq(r.images[i].keys[0].scheme,
			     OTAPKG_WRAP_ECIES_X25519);
		cr_assert_eq(r.images[i].keys[1].scheme, OTAPKG_WRAP_AES_KW);
	}
	cr_assert_eq(r.images[1].compression, OTAPKG_COMP_ZLIB);
	cr_assert_eq(ota_recipient_load(&rx, e.x_pub, 0), 0);
	cr_assert_eq(ota_recipient_key_id(id, rx), 0);
	ota_recipient_free(rx);
	ota_hex_encode(hex, id, 32);
	cr_assert_str_eq(r.images[0].keys[0].keyid, hex);
	ota_package_report_clear(&r);

	/* Extracting needs a key, and writes nothing without it. */
	cr_assert_eq(check(&r, &e, NULL, e.out), OTA_EUSAGE);
	cr_assert_neq(access(e.out, F_OK), 0);
	ota_package_report_clear(&r);

	/* Each recipient decrypts. */
	const char *keys[] = { e.x, e.kek };
	for (size_t k = 0; k < 2; k++) {
		cr_assert_eq(mkdir(e.out, 0755), 0);
		cr_assert_eq(check(&r, &e, keys[k], e.out), 0, "%s", r.error);
		cr_assert(r.images[0].decrypted && r.images[1].decrypted);
		cr_assert(r.images[0].flashed_ok && r.images[1].flashed_ok);
		snprintf(p, sizeof(p), "%s/app.bin", e.out);
		got = get_file(p, &n);
		cr_assert_eq(n, sizeof(e.app));
		cr_assert_arr_eq(got, e.app, n);
		free(got);
		snprintf(p, sizeof(p), "%s/cfg.bin", e.out);
		got = get_file(p, &n);
		cr_assert_eq(n, sizeof(e.cfg));
		cr_assert_arr_eq(got, e.cfg, n);
		free(got);
		ota_package_report_clear(&r);
		snprintf(p, sizeof(p), "rm -rf '%s'", e.out);
		cr_assert_eq(system(p), 0);
	}
	env_free(&e);
}

Test(package_crypt, a_key_that_is_no_recipient)
{
	struct ota_package_opts o = { .alignment = 16 };
	struct ota_package_report r;
	char other[128], other_pub[128], id[65];
	struct env e;

	env_init(&e);
	const char *refs[] = { e.x_pub };
	write_pkg(&e, refs, 1, &o);
	path(other, &e, "other.pem");
	path(other_pub, &e, "other.pub.pem");
	cr_assert_eq(
	    ota_encrypt_key_generate_file(id, "x25519", other, other_pub), 0);
	cr_assert_eq(check(&r, &e, other, NULL), OTA_EVERIFY);
	cr_assert(strstr(r.error, "no IMAGE_KEY unwraps") != NULL, "%s",
		  r.error);
	ota_package_report_clear(&r);
	/* An AES-KW key cannot unwrap ECIES-X25519 at all: a key error. */
	cr_assert_eq(check(&r, &e, e.kek, NULL), OTA_EKEY);
	ota_package_report_clear(&r);
	env_free(&e);
}

/* ---- The device verifier with host callbacks ----------------------- */

struct dev {
	struct pkgb_crypto c; /* hashing and signatures; ops.ctx = &c */
	struct otav_crypto ops;
	struct ota_decrypt_key *key;
	struct ota_content_key keys[OTAPKG_MAX_IMAGES];
	struct ota_ctr *ctr;
	unsigned unwraps, inits, ends;
	uint8_t *clear[2], *stored[2];
	size_t clear_len[2], stored_len[2];
};

static struct dev *dev_of(void *ctx)
{
	return (struct dev *)((char *)ctx - offsetof(struct dev, c));
}

static int d_unwrap(void *ctx, unsigned image, const struct otav_image_key *k)
{
	struct dev *d = dev_of(ctx);
	enum ota_wrap_scheme s;

	d->unwraps++;
	if (ota_wrap_scheme_of_tlv(&s, k->scheme) ||
	    !ota_decrypt_key_accepts(d->key, s))
		return 1;
	return ota_unwrap(&d->keys[image], d->key, s, k->wrapped,
			  k->wrapped_len, k->key_len)
		   ? -1
		   : 0;
}

static int d_init(void *ctx, unsigned image)
{
	struct dev *d = dev_of(ctx);

	d->inits++;
	ota_ctr_free(d->ctr);
	return ota_ctr_new(&d->ctr, &d->keys[image]) ? -1 : 0;
}

static int d_update(void *ctx, const uint8_t *in, uint8_t *out, size_t len)
{
	struct dev *d = dev_of(ctx);

	return ota_ctr_update(d->ctr, out, in, len) ? -1 : 0;
}

static void d_end(void *ctx, unsigned image)
{
	struct dev *d = dev_of(ctx);

	d->ends++;
	ota_ctr_free(d->ctr);
	d->ctr = NULL;
	ota_content_key_wipe(&d->keys[image]);
}

static int append(uint8_t **buf, size_t *n, const uint8_t *data, size_t len)
{
	*buf = realloc(*buf, *n + len + 1);
	cr_assert_not_null(*buf);
	memcpy(*buf + *n, data, len);
	*n += len;
	return 0;
}

static int ev_data(void *ctx, unsigned index, const uint8_t *data, size_t len)
{
	struct dev *d = ctx;

	return index < 2
		   ? append(&d->stored[index], &d->stored_len[index], data, len)
		   : -1;
}

static int ev_clear(void *ctx, unsigned index, const uint8_t *data, size_t len)
{
	struct dev *d = ctx;

	return index < 2
		   ? append(&d->clear[index], &d->clear_len[index], data, len)
		   : -1;
}

static void dev_init(struct dev *d, EVP_PKEY *trusted, const char *key)
{
	memset(d, 0, sizeof(*d));
	pkgb_crypto_init(&d->c);
	pkgb_crypto_trust(&d->c, trusted);
	d->ops = d->c.ops;
	d->ops.ctx = &d->c;
	if (key) {
		cr_assert_eq(ota_decrypt_key_open(&d->key, key, NULL), 0);
		d->ops.unwrap = d_unwrap;
		d->ops.cipher_init = d_init;
		d->ops.cipher_update = d_update;
		d->ops.cipher_end = d_end;
	}
}

static void dev_free(struct dev *d)
{
	for (int i = 0; i < 2; i++) {
		free(d->clear[i]);
		free(d->stored[i]);
	}
	ota_ctr_free(d->ctr);
	ota_decrypt_key_free(d->key);
	pkgb_crypto_free(&d->c);
}

/* Feeds pkg in chunks of step bytes. */
static enum otav_status dev_run(struct dev *d, const uint8_t *pkg, size_t len,
				size_t step)
{
	struct otav_events ev = { .ctx = d,
				  .image_data = ev_data,
				  .image_clear = ev_clear };
	static struct otav v;
	enum otav_status st = OTAV_OK;

	otav_init(&v, &d->ops, NULL, &ev);
	for (size_t off = 0; off < len && st == OTAV_OK; off += step)
		st = otav_feed(&v, pkg + off,
			       len - off < step ? len - off : step);
	return st == OTAV_OK ? otav_finish(&v) : st;
}

static EVP_PKEY *load_pub(const char *p)
{
	FILE *f = fopen(p, "r");
	EVP_PKEY *k;

	cr_assert_not_null(f);
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert_not_null(k);
	return k;
}

Test(package_crypt, device_code_decrypts_with_host_callbacks)
{
	struct ota_package_opts o = { .alignment = 16 };
	const char *cfg_only[] = { "cfg" };
	struct dev d;
	struct env e;
	EVP_PKEY *signer;
	uint8_t *pkg, *inflated;
	size_t len;

	env_init(&e);
	const char *refs[] = { e.kek, e.x_pub };
	o.compress = cfg_only;
	o.n_compress = 1;
	write_pkg(&e, refs, 2, &o);
	pkg = get_file(e.pkg, &len);
	signer = load_pub(e.sign_pub);
	const size_t steps[] = { 1, 7, 1031, 100000 };
	for (size_t s = 0; s < sizeof(steps) / sizeof(*steps); s++) {
		const char *key = s % 2 ? e.x : e.kek;

		dev_init(&d, signer, key);
		cr_assert_eq(dev_run(&d, pkg, len, steps[s]), OTAV_OK,
			     "step %zu", steps[s]);
		cr_assert_eq(d.inits, 2);
		cr_assert_eq(d.ends, 2);
		/* the stored bytes are cipher text, the clear ones the image */
		cr_assert_eq(d.clear_len[0], sizeof(e.app));
		cr_assert_arr_eq(d.clear[0], e.app, sizeof(e.app));
		cr_assert(!contains(d.stored[0], d.stored_len[0], MARKER));
		cr_assert_eq(d.clear_len[1], d.stored_len[1]);
		uLongf n = sizeof(e.cfg) + 16;
		inflated = malloc(n);
		cr_assert_eq(
		    uncompress(inflated, &n, d.clear[1], (uLong)d.clear_len[1]),
		    Z_OK);
		cr_assert_eq(n, sizeof(e.cfg));
		cr_assert_arr_eq(inflated, e.cfg, n);
		free(inflated);
		dev_free(&d);
	}
	/* No cipher callbacks: checked as stored, never decrypted. */
	dev_init(&d, signer, NULL);
	cr_assert_eq(dev_run(&d, pkg, len, 64), OTAV_OK);
	cr_assert_eq(d.clear_len[0], 0);
	cr_assert_eq(d.stored_len[0], sizeof(e.app));
	dev_free(&d);
	/* A device key that is no recipient: refused before any payload. */
	{
		char other[128], other_pub[128], id[65];

		path(other, &e, "other.b64");
		(void)other_pub;
		cr_assert_eq(ota_encrypt_key_generate_file(id, "aes-kw-128",
							   other, NULL),
			     0);
		dev_init(&d, signer, other);
		cr_assert_eq(dev_run(&d, pkg, len, 64), OTAV_E_KEY);
		cr_assert_eq(d.inits, 0);
		cr_assert_eq(d.stored_len[0], 0);
		dev_free(&d);
	}
	EVP_PKEY_free(signer);
	free(pkg);
	env_free(&e);
}

/*
 * Every bit of a small encrypted package, flipped one at a time: the device
 * code with the key never accepts it, and the library (signatures,
 * digests, unwrap, plaintext digest) never does either.
 */
Test(package_crypt, every_bit_flip_refused, .timeout = 600)
{
	struct ota_package_opts o = { .alignment = 16 };
	struct ota_resolve_opts ro = { .skip_digests = true };
	struct ota_package_report r;
	static const char yaml[] = "name: s\nversion: 1.0.0\nhardware: [b]\n"
				   "security_counter: 1\nimages:\n"
				   "  - name: a\n    kind: application\n"
				   "    file: a.bin\n"
				   "git:\n  commit: 0123456789abcdef0123456789"
				   "abcdef01234567\n";
	struct ota_manifest *m = NULL;
	struct ota_recipient *rk;
	struct dev d;
	struct env e;
	EVP_PKEY *signer;
	uint8_t *pkg;
	char p[128];
	size_t len;

	env_init(&e);
	put_file(e.rel, yaml, strlen(yaml));
	path(p, &e, "a.bin");
	put_file(p, MARKER MARKER, 2 * strlen(MARKER));
	cr_assert_eq(
	    ota_manifest_load_input(&m, e.rel, &ro, &e.trust, e.signers), 0);
	cr_assert_eq(ota_recipient_load(&rk, e.kek, 0), 0);
	o.recipients = (const struct ota_recipient *const *)&rk;
	o.n_recipients = 1;
	cr_assert_eq(ota_package_write(e.pkg, m, e.signers, &o), 0, "%s",
		     ota_error_message());
	ota_recipient_free(rk);
	ota_manifest_free(m);
	pkg = get_file(e.pkg, &len);
	signer = load_pub(e.sign_pub);
	dev_init(&d, signer, e.kek);
	cr_assert_eq(dev_run(&d, pkg, len, 13), OTAV_OK);
	dev_free(&d);
	for (size_t off = 0; off < len; off++) {
		for (int bit = 0; bit < 8; bit++) {
			pkg[off] ^= (uint8_t)(1u << bit);
			dev_init(&d, signer, e.kek);
			cr_assert_neq(dev_run(&d, pkg, len, 29), OTAV_OK,
				      "device: bit %d of byte %zu", bit, off);
			dev_free(&d);
			if (bit == (int)(off % 8)) {
				put_file(e.pkg, pkg, len);
				cr_assert_neq(check(&r, &e, e.kek, NULL), 0,
					      "library: bit %d of byte %zu",
					      bit, off);
				ota_package_report_clear(&r);
			}
			pkg[off] ^= (uint8_t)(1u << bit);
		}
	}
	EVP_PKEY_free(signer);
	free(pkg);
	env_free(&e);
}

/*
 * Decryption adds nothing per image (key length and count sit in the
 * image entry's tail padding) and 16 bytes to the state, as
 * otatool-package(5) states: test_otadelta.c checks the whole figure.
 */
Test(package_crypt, ram)
{
	cr_assert_eq(sizeof(struct otav_image), 376);
	cr_assert_eq(sizeof(struct otav), sizeof(void *) == 8 ? 14696 : 14688);
}
