/* Signing keys in files or tokens, their algorithms, ids and signatures. */
#include "key_priv.h"
#include "pkcs11_priv.h"
#include "rfc6979_priv.h"

#include "otatool/cipher.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/hex.h"
#include "otatool/output.h"
#include "otatool/secret.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE_MAX (64u << 10) /* the largest PEM key is a few KiB */

static const struct {
	const char *name;
	enum ota_digest_alg digest;
	bool prehash;
} algs[] = {
	[OTA_SIG_ECDSA_P256_SHA256] = { "ecdsa-p256-sha256", OTA_DIGEST_SHA256,
					true },
	[OTA_SIG_ECDSA_P384_SHA384] = { "ecdsa-p384-sha384", OTA_DIGEST_SHA384,
					true },
	[OTA_SIG_RSA_PSS_SHA256] = { "rsa-pss-sha256", OTA_DIGEST_SHA256,
				     true },
	[OTA_SIG_RSA_PKCS1_SHA256] = { "rsa-pkcs1-sha256", OTA_DIGEST_SHA256,
				       true },
	[OTA_SIG_ED25519] = { "ed25519", OTA_DIGEST_SHA256, false },
};
#define N_ALGS (sizeof(algs) / sizeof(algs[0]))

#define KEY_MAX_CERTS 8

struct ota_key {
	char *ref;
	bool public_only;
	size_t n_certs;
	uint8_t *certs[KEY_MAX_CERTS];
	size_t cert_lens[KEY_MAX_CERTS];
	EVP_PKEY *pkey;             /* file keys: private; tokens: public */
	struct ota_pkcs11_key *p11; /* token keys, owned by the context */
	enum ota_sig_alg alg;
	struct ota_public_key pub; /* pkey borrowed: pkey above, or p11's */
};

const char *ota_sig_alg_name(enum ota_sig_alg alg)
{
	return (size_t)alg < N_ALGS ? algs[alg].name : "unknown";
}

int ota_sig_alg_parse(enum ota_sig_alg *out, const char *name)
{
	for (size_t i = 0; i < N_ALGS; i++) {
		if (strcmp(name, algs[i].name) == 0) {
			*out = (enum ota_sig_alg)i;
			return 0;
		}
	}
	return ota_error(
	    OTA_EINPUT,
	    "unknown signature algorithm \"%s\" (ecdsa-p256-sha256, "
	    "ecdsa-p384-sha384, rsa-pss-sha256, rsa-pkcs1-sha256, "
	    "ed25519)",
	    name);
}

bool ota_sig_alg_digest(enum ota_sig_alg alg, enum ota_digest_alg *out)
{
	*out = algs[alg].digest;
	return algs[alg].prehash;
}

static const char *md_name(enum ota_digest_alg d)
{
	return d == OTA_DIGEST_SHA384 ? "SHA384" : "SHA256";
}

int ota_sig_alg_for_key(enum ota_sig_alg *out, EVP_PKEY *pub, bool rsa_pkcs1)
{
	char group[64] = "";

	if (EVP_PKEY_is_a(pub, "ED25519")) {
		*out = OTA_SIG_ED25519;
		return 0;
	}
	if (EVP_PKEY_is_a(pub, "RSA")) {
		int bits = EVP_PKEY_get_bits(pub);

		if (bits < 2048 || bits > 4096)
			return ota_error(
			    OTA_EKEY,
			    "RSA key of %d bits: otatool signs with "
			    "2048 to 4096 bits",
			    bits);
		*out = rsa_pkcs1 ? OTA_SIG_RSA_PKCS1_SHA256
				 : OTA_SIG_RSA_PSS_SHA256;
		return 0;
	}
	if (EVP_PKEY_is_a(pub, "EC")) {
		EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME,
					       group, sizeof(group), NULL);
		if (strcmp(group, "prime256v1") == 0) {
			*out = OTA_SIG_ECDSA_P256_SHA256;
			return 0;
		}
		if (strcmp(group, "secp384r1") == 0) {
			*out = OTA_SIG_ECDSA_P384_SHA384;
			return 0;
		}
		return ota_error(OTA_EKEY,
				 "unsupported curve %s (otatool signs with "
				 "P-256, P-384 or Ed25519)",
				 *group ? group : "(unnamed)");
	}
	return ota_error(OTA_EKEY, "unsupported key type %s",
			 EVP_PKEY_get0_type_name(pub)
			     ? EVP_PKEY_get0_type_name(pub)
			     : "(unknown)");
}

int ota_sig_alg_check(enum ota_sig_alg alg, EVP_PKEY *pub)
{
	enum ota_sig_alg natural;
	int rc = ota_sig_alg_for_key(&natural, pub, false);

	if (rc)
		return rc;
	if (natural == alg || (natural == OTA_SIG_RSA_PSS_SHA256 &&
			       alg == OTA_SIG_RSA_PKCS1_SHA256))
		return 0;
	return ota_error(OTA_EKEY, "a %s key cannot make %s signatures",
			 ota_sig_alg_name(natural), ota_sig_alg_name(alg));
}

int ota_key_id_of(char id[OTA_KEY_ID_LEN + 1], EVP_PKEY *pub)
{
	unsigned char *der = NULL;
	struct ota_digest d;
	int len = i2d_PUBKEY(pub, &der);
	int rc;

	if (len <= 0)
		return ota_error(OTA_EINTERNAL, "cannot encode public key");
	rc = ota_digest_buffer(&d, OTA_DIGEST_SHA256, der, (size_t)len);
	OPENSSL_free(der);
	if (rc)
		return rc;
	ota_hex_encode(id, d.bytes, d.len);
	return 0;
}

/* Passphrase for encrypted PEM, fetched only if the decoder asks. */
struct pass_ctx {
	const struct ota_key_opts *opts;
	const char *path;
	bool asked, got;
	int err;
};

static int pass_cb(char *pass, size_t pass_size, size_t *pass_len,
		   const OSSL_PARAM params[], void *arg)
{
	struct pass_ctx *pc = arg;
	struct ota_secret s;
	char what[512], prompt[600];

	(void)params;
	pc->asked = true;
	snprintf(what, sizeof(what), "passphrase for %s", pc->path);
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", pc->path);
	pc->err = ota_secret_get(&s, what, pc->opts->passphrase_file,
				 "OTATOOL_KEY_PASSPHRASE",
				 pc->opts->allow_prompt ? prompt : NULL);
	if (pc->err)
		return 0;
	if (s.len > pass_size) {
		ota_secret_wipe(&s);
		pc->err = ota_error(OTA_EINPUT, "%s is longer than %zu bytes",
				    what, pass_size);
		return 0;
	}
	memcpy(pass, s.value, s.len);
	*pass_len = s.len;
	pc->got = true;
	ota_secret_wipe(&s);
	return 1;
}

/*
 * A fresh read-only BIO over the file's bytes for the next decoder to try
 * (BIO_reset() does not rewind a read-only memory BIO); frees the old one.
 */
static BIO *bio_again(BIO *old, const char *data, size_t len)
{
	BIO_free(old);
	return BIO_new_mem_buf(data, (int)len);
}

/* Why a file that is not a private key was given: say what it is. */
static int explain_not_private(const char *path, const char *data, size_t len,
			       const char *purpose)
{
	EVP_PKEY *pub = NULL;
	X509 *cert = NULL;
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	OSSL_DECODER_CTX *d;
	int is_pub = 0;

	if (bio) {
		d = OSSL_DECODER_CTX_new_for_pkey(
		    &pub, NULL, NULL, NULL, EVP_PKEY_PUBLIC_KEY, NULL, NULL);
		is_pub = d && OSSL_DECODER_from_bio(d, bio) == 1;
		OSSL_DECODER_CTX_free(d);
		EVP_PKEY_free(pub);
		if (!is_pub && (bio = bio_again(bio, data, len))) {
			cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
			if (!cert && (bio = bio_again(bio, data, len)))
				cert = d2i_X509_bio(bio, NULL);
		}
		BIO_free(bio);
	}
	ERR_clear_error();
	if (is_pub)
		return ota_error(OTA_EKEY,
				 "%s: is a public key; %s needs the "
				 "private key",
				 path, purpose);
	if (cert) {
		X509_free(cert);
		return ota_error(OTA_EKEY,
				 "%s: is a certificate; %s needs the "
				 "private key%s",
				 path, purpose,
				 strcmp(purpose, "signing") == 0
				     ? " (give the certificate with --cert)"
				     : "");
	}
	return ota_error(OTA_EKEY,
			 "%s: not a valid private key (PEM or DER: PKCS#8, "
			 "SEC1 or PKCS#1), or the file is truncated",
			 path);
}

int ota_private_key_load(EVP_PKEY **out, const char *path,
			 const struct ota_key_opts *opts, const char *purpose)
{
	struct pass_ctx pc = { .opts = opts, .path = path };
	OSSL_DECODER_CTX *d = NULL;
	BIO *bio = NULL;
	char *data = NULL;
	size_t len = 0;
	struct stat st;
	int rc;

	/*
	 * otatool-sign(1): a key file that cannot be opened or is too large
	 * is a key error (7); a path that is not a regular file at all (a
	 * FIFO, a directory) an input error (3), refused by fileio before
	 * anything waits on it.
	 */
	*out = NULL;
	if (stat(path, &st) != 0)
		return ota_error(OTA_EKEY, "%s: cannot open key: %s", path,
				 strerror(errno));
	if (S_ISREG(st.st_mode) && st.st_size > KEY_FILE_MAX)
		return ota_error(OTA_EKEY, "%s: too large for a key file",
				 path);
	if ((rc = ota_file_read_small(&data, &len, path, KEY_FILE_MAX)))
		return rc;
	bio = BIO_new_mem_buf(data, (int)len);
	if (!bio) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	d = OSSL_DECODER_CTX_new_for_pkey(
	    out, NULL, NULL, NULL, OSSL_KEYMGMT_SELECT_PRIVATE_KEY, NULL, NULL);
	if (!d || !OSSL_DECODER_CTX_set_passphrase_cb(d, pass_cb, &pc)) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	if (OSSL_DECODER_from_bio(d, bio) != 1 || !*out) {
		if (pc.asked && !pc.got && pc.err != OTA_EKEY)
			/*
			 * The passphrase could not be read (a missing, empty
			 * or too long file): say why, as the input error it
			 * is.
			 */
			rc = ota_error_wrap(pc.err, "%s: encrypted key", path);
		else if (pc.asked && !pc.got)
			rc = ota_error(OTA_EKEY,
				       "%s: key is encrypted and no passphrase "
				       "was given (--passphrase-file, "
				       "OTATOOL_KEY_PASSPHRASE, or run on a "
				       "terminal)",
				       path);
		else if (pc.got)
			rc = ota_error(OTA_EKEY,
				       "%s: wrong passphrase, or the key is "
				       "corrupt",
				       path);
		else
			rc = explain_not_private(path, data, len, purpose);
		EVP_PKEY_free(*out);
		*out = NULL;
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	OSSL_DECODER_CTX_free(d);
	BIO_free(bio);
	/* The file holds a private key: no copy outlives its use. */
	if (data)
		OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}

int ota_key_open(struct ota_key **out, const char *ref,
		 const struct ota_key_opts *opts)
{
	struct ota_key *k;
	EVP_PKEY *pub;
	int rc;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k || !(k->ref = strdup(ref))) {
		free(k);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	if (ota_pkcs11_is_uri(ref)) {
		if (!opts->pkcs11) {
			rc = ota_error(
			    OTA_EKEY, "%s: PKCS#11 keys are not available here",
			    ref);
			goto fail;
		}
		if ((rc = ota_pkcs11_find_key(&k->p11, opts->pkcs11, ref)))
			goto fail;
		pub = ota_pkcs11_key_public(k->p11);
	} else {
		if ((rc = ota_private_key_load(&k->pkey, ref, opts, "signing")))
			goto fail;
		pub = k->pkey;
	}
	if ((rc = ota_sig_alg_for_key(&k->alg, pub, opts->rsa_pkcs1))) {
		rc = ota_error_wrap(rc, "%s", ref);
		goto fail;
	}
	if ((rc = ota_key_id_of(k->pub.id, pub)))
		goto fail;
	k->pub.pkey = pub;
	*out = k;
	return 0;
fail:
	ota_key_free(k);
	return rc;
}

int ota_key_open_public(struct ota_key **out, const char *ref,
			const struct ota_key_opts *opts,
			const enum ota_sig_alg *alg)
{
	struct ota_key *k;
	int rc;

	*out = NULL;
	if (ota_pkcs11_is_uri(ref)) {
		/* A token key: its private half is there, signing still works.
		 */
		if ((rc = ota_key_open(out, ref, opts)))
			return rc;
		if (alg && (rc = ota_sig_alg_check(*alg, ota_key_pkey(*out)))) {
			ota_key_free(*out);
			*out = NULL;
			return ota_error_wrap(rc, "%s", ref);
		}
		if (alg)
			(*out)->alg = *alg;
		return 0;
	}
	k = calloc(1, sizeof(*k));
	if (!k || !(k->ref = strdup(ref))) {
		free(k);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	k->public_only = true;
	if ((rc = ota_public_key_load_pkey(&k->pkey, ref)))
		goto fail;
	if (alg) {
		if ((rc = ota_sig_alg_check(*alg, k->pkey)))
			goto wrap;
		k->alg = *alg;
	} else if ((rc = ota_sig_alg_for_key(&k->alg, k->pkey,
					     opts->rsa_pkcs1))) {
		goto wrap;
	}
	if ((rc = ota_key_id_of(k->pub.id, k->pkey)))
		goto fail;
	k->pub.pkey = k->pkey;
	*out = k;
	return 0;
wrap:
	rc = ota_error_wrap(rc, "%s", ref);
fail:
	ota_key_free(k);
	return rc;
}

void ota_key_free(struct ota_key *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n_certs; i++)
		free(k->certs[i]);
	EVP_PKEY_free(k->pkey);
	free(k->ref);
	free(k);
}

enum ota_sig_alg ota_key_alg(const struct ota_key *k)
{
	return k->alg;
}

EVP_PKEY *ota_key_pkey(const struct ota_key *k)
{
	return k->p11 ? ota_pkcs11_key_public(k->p11) : k->pkey;
}

const struct ota_public_key *ota_key_public(const struct ota_key *k)
{
	return &k->pub;
}

const char *ota_key_id(const struct ota_key *k)
{
	return k->pub.id;
}

const char *ota_key_ref(const struct ota_key *k)
{
	return k->ref;
}

/* PSS parameters are fixed: MGF1 with the same hash, salt = hash length. */
static int setup_pctx(EVP_PKEY_CTX *pctx, enum ota_sig_alg alg)
{
	if (alg == OTA_SIG_RSA_PSS_SHA256)
		return EVP_PKEY_CTX_set_rsa_padding(
			   pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) > 0 &&
		       EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL) >
			   0;
	if (alg == OTA_SIG_RSA_PKCS1_SHA256)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) >
		       0;
	return 1;
}

static int sign_with_file_key(uint8_t **sig, size_t *siglen, struct ota_key *k,
			      const uint8_t *msg, size_t msglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	enum ota_digest_alg d;
	bool prehash = ota_sig_alg_digest(k->alg, &d);
	size_t len = 0;
	int rc = OTA_EINTERNAL;

	*sig = NULL;
	if (!ctx ||
	    EVP_DigestSignInit_ex(ctx, &pctx, prehash ? md_name(d) : NULL, NULL,
				  NULL, k->pkey, NULL) != 1 ||
	    !setup_pctx(pctx, k->alg) ||
	    EVP_DigestSign(ctx, NULL, &len, msg, msglen) != 1 ||
	    !(*sig = malloc(len)) ||
	    EVP_DigestSign(ctx, *sig, &len, msg, msglen) != 1) {
		free(*sig);
		*sig = NULL;
		rc = ota_error(
		    OTA_EKEY, "%s: signing failed: %s", k->ref,
		    ERR_reason_error_string(ERR_peek_last_error())
			? ERR_reason_error_string(ERR_peek_last_error())
			: "OpenSSL error");
		goto out;
	}
	*siglen = len;
	rc = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* The Cryptoki mechanism that makes each signature algorithm's signature. */
static const enum ota_pkcs11_mech token_mech[] = {
	[OTA_SIG_ECDSA_P256_SHA256] = OTA_PKCS11_ECDSA,
	[OTA_SIG_ECDSA_P384_SHA384] = OTA_PKCS11_ECDSA,
	[OTA_SIG_RSA_PSS_SHA256] = OTA_PKCS11_RSA_PSS,
	[OTA_SIG_RSA_PKCS1_SHA256] = OTA_PKCS11_RSA_PKCS1,
	[OTA_SIG_ED25519] = OTA_PKCS11_EDDSA,
};

static int sign_with_token(uint8_t **sig, size_t *siglen, struct ota_key *k,
			   const uint8_t *msg, size_t msglen)
{
	struct ota_digest dg;
	enum ota_digest_alg d;
	int rc;

	if (!ota_sig_alg_digest(k->alg, &d))
		return ota_pkcs11_sign(k->p11, token_mech[k->alg], 0, msg,
				       msglen, sig, siglen);
	if ((rc = ota_digest_buffer(&dg, d, msg, msglen)))
		return rc;
	return ota_pkcs11_sign(k->p11, token_mech[k->alg],
			       d == OTA_DIGEST_SHA384 ? NID_sha384 : NID_sha256,
			       dg.bytes, dg.len, sig, siglen);
}

/*
 * ECDSA file keys sign with k from RFC 6979 (rfc6979.c), always: the same
 * digest and key give the same signature, as Ed25519 does, so rebuilds are
 * byte-identical and no signature depends on the machine's RNG. Every
 * signature is verified below before it is returned, which is what stops a
 * fault while signing from releasing a signature that leaks the key.
 */
static bool is_ecdsa(enum ota_sig_alg alg)
{
	return alg == OTA_SIG_ECDSA_P256_SHA256 ||
	       alg == OTA_SIG_ECDSA_P384_SHA384;
}

static int sign_ecdsa_file(uint8_t **sig, size_t *siglen, struct ota_key *k,
			   const struct ota_digest *dg)
{
	int rc = ota_ecdsa_sign_deterministic(sig, siglen, k->pkey, dg);

	return rc ? ota_error_wrap(rc, "%s", k->ref) : 0;
}

static int sign_ecdsa_message(uint8_t **sig, size_t *siglen, struct ota_key *k,
			      const uint8_t *msg, size_t msglen)
{
	struct ota_digest dg;
	enum ota_digest_alg d;
	int rc;

	ota_sig_alg_digest(k->alg, &d);
	if ((rc = ota_digest_buffer(&dg, d, msg, msglen)))
		return rc;
	return sign_ecdsa_file(sig, siglen, k, &dg);
}

int ota_key_sign(uint8_t **sig, size_t *siglen, struct ota_key *k,
		 const uint8_t *msg, size_t msglen)
{
	int rc;

	if (k->public_only)
		return ota_error(OTA_EKEY, "%s: a public key cannot sign",
				 k->ref);
	rc = k->p11 ? sign_with_token(sig, siglen, k, msg, msglen)
	     : is_ecdsa(k->alg)
		 ? sign_ecdsa_message(sig, siglen, k, msg, msglen)
		 : sign_with_file_key(sig, siglen, k, msg, msglen);

	if (rc)
		return rc;
	rc = ota_signature_verify(ota_key_pkey(k), k->alg, msg, msglen, *sig,
				  *siglen);
	if (rc) {
		free(*sig);
		*sig = NULL;
		return ota_error(
		    OTA_EKEY,
		    "%s: the signature it made does not verify "
		    "with its public key (wrong public key object, "
		    "or a faulty token)",
		    k->ref);
	}
	return 0;
}

int ota_signature_verify(EVP_PKEY *pub, enum ota_sig_alg alg,
			 const uint8_t *msg, size_t msglen, const uint8_t *sig,
			 size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	enum ota_digest_alg d;
	bool prehash = ota_sig_alg_digest(alg, &d);
	int rc, ok;

	if (!ctx)
		return ota_error(OTA_EINTERNAL, "out of memory");
	/* The algorithm comes from untrusted input: a misfit just fails. */
	if (ota_sig_alg_check(alg, pub)) {
		rc = ota_error_wrap(OTA_EVERIFY, "signature does not verify");
		goto out;
	}
	if (EVP_DigestVerifyInit_ex(ctx, &pctx, prehash ? md_name(d) : NULL,
				    NULL, NULL, pub, NULL) != 1 ||
	    !setup_pctx(pctx, alg)) {
		rc = ota_error(OTA_EINTERNAL, "cannot set up %s verification",
			       ota_sig_alg_name(alg));
		goto out;
	}
	ok = EVP_DigestVerify(ctx, sig, siglen, msg, msglen);
	rc = ok == 1 ? 0
		     : ota_error(OTA_EVERIFY, "%s signature does not verify",
				 ota_sig_alg_name(alg));
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return rc;
}

int ota_public_key_load_pkey(EVP_PKEY **out, const char *path)
{
	OSSL_DECODER_CTX *d = NULL;
	X509 *cert = NULL;
	BIO *bio = NULL;
	char *data = NULL;
	size_t len = 0;
	int rc = 0;

	*out = NULL;
	if ((rc = ota_file_read_small(&data, &len, path, KEY_FILE_MAX)))
		return rc;
	bio = BIO_new_mem_buf(data, (int)len);
	if (!bio) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	d = OSSL_DECODER_CTX_new_for_pkey(out, NULL, NULL, NULL,
					  EVP_PKEY_PUBLIC_KEY, NULL, NULL);
	if (d && OSSL_DECODER_from_bio(d, bio) == 1 && *out)
		goto out;
	if ((bio = bio_again(bio, data, len)))
		cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (!cert && (bio = bio_again(bio, data, len)))
		cert = d2i_X509_bio(bio, NULL);
	if (cert && (*out = X509_get_pubkey(cert)))
		goto out;
	/* A private key file: keep only its public half. */
	if ((bio = bio_again(bio, data, len))) {
		EVP_PKEY *priv = NULL;
		OSSL_DECODER_CTX *pd = OSSL_DECODER_CTX_new_for_pkey(
		    &priv, NULL, NULL, NULL, OSSL_KEYMGMT_SELECT_PRIVATE_KEY,
		    NULL, NULL);
		unsigned char *der = NULL;
		const unsigned char *p;
		int der_len;

		if (pd && OSSL_DECODER_from_bio(pd, bio) == 1 && priv &&
		    (der_len = i2d_PUBKEY(priv, &der)) > 0) {
			p = der;
			*out = d2i_PUBKEY(NULL, &p, der_len);
		}
		OPENSSL_free(der);
		EVP_PKEY_free(priv);
		OSSL_DECODER_CTX_free(pd);
		if (*out)
			goto out;
	}
	rc = ota_error(OTA_EINPUT,
		       "%s: no public key, certificate or unencrypted private "
		       "key found (PEM or DER)",
		       path);
out:
	ERR_clear_error();
	X509_free(cert);
	OSSL_DECODER_CTX_free(d);
	BIO_free(bio);
	/* It may have been a private key file. */
	if (data)
		OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}

int ota_public_key_from_pkey(struct ota_public_key **out, EVP_PKEY *pkey)
{
	struct ota_public_key *k = calloc(1, sizeof(*k));
	int rc;

	*out = NULL;
	if (!k)
		return ota_error(OTA_EINTERNAL, "out of memory");
	if ((rc = ota_key_id_of(k->id, pkey))) {
		free(k);
		return rc;
	}
	EVP_PKEY_up_ref(pkey);
	k->pkey = pkey;
	*out = k;
	return 0;
}

int ota_public_key_load(struct ota_public_key **out, const char *path)
{
	EVP_PKEY *pkey = NULL;
	int rc;

	*out = NULL;
	if ((rc = ota_public_key_load_pkey(&pkey, path)))
		return rc;
	rc = ota_public_key_from_pkey(out, pkey);
	EVP_PKEY_free(pkey);
	return rc;
}

void ota_public_key_free(struct ota_public_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

const char *ota_public_key_id(const struct ota_public_key *k)
{
	return k->id;
}

int ota_public_key_verify(const struct ota_public_key *k, enum ota_sig_alg alg,
			  const uint8_t *msg, size_t msglen, const uint8_t *sig,
			  size_t siglen)
{
	return ota_signature_verify(k->pkey, alg, msg, msglen, sig, siglen);
}

/* Decodes base64 text (whitespace allowed); -1 if it is not base64. */
static int base64_decode(uint8_t **out, size_t *outlen, const uint8_t *in,
			 size_t inlen)
{
	EVP_ENCODE_CTX *ctx;
	int n = 0, fin = 0;
	uint8_t *buf;

	for (size_t i = 0; i < inlen; i++)
		if (!isalnum(in[i]) && !strchr("+/=\r\n\t ", in[i]))
			return -1;
	if (inlen == 0 || inlen > (1u << 20))
		return -1;
	buf = malloc(inlen);
	ctx = EVP_ENCODE_CTX_new();
	if (!buf || !ctx) {
		free(buf);
		EVP_ENCODE_CTX_free(ctx);
		return -1;
	}
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, buf, &n, in, (int)inlen) < 0 ||
	    EVP_DecodeFinal(ctx, buf + n, &fin) != 1) {
		free(buf);
		EVP_ENCODE_CTX_free(ctx);
		return -1;
	}
	EVP_ENCODE_CTX_free(ctx);
	*out = buf;
	*outlen = (size_t)(n + fin);
	return 0;
}

/* Raw r||s of 2 * field bytes into DER ECDSA-Sig-Value. */
static int raw_ecdsa_to_der(uint8_t **out, size_t *outlen, const uint8_t *in,
			    size_t half)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(in, (int)half, NULL);
	BIGNUM *sv = BN_bin2bn(in + half, (int)half, NULL);
	unsigned char *der = NULL;
	int len;

	if (!s || !r || !sv || !ECDSA_SIG_set0(s, r, sv)) {
		BN_free(r);
		BN_free(sv);
		ECDSA_SIG_free(s);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	len = i2d_ECDSA_SIG(s, &der);
	ECDSA_SIG_free(s);
	if (len <= 0)
		return ota_error(OTA_EINTERNAL,
				 "cannot encode ECDSA signature");
	*out = malloc((size_t)len);
	if (!*out) {
		OPENSSL_free(der);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	memcpy(*out, der, (size_t)len);
	*outlen = (size_t)len;
	OPENSSL_free(der);
	return 0;
}

/* A strict DER ECDSA-Sig-Value: parses whole and re-encodes identically. */
static bool is_der_ecdsa(const uint8_t *in, size_t len)
{
	const unsigned char *p = in;
	unsigned char *der = NULL;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
	bool ok = false;
	int n;

	if (s && p == in + len) {
		n = i2d_ECDSA_SIG(s, &der);
		ok = n == (int)len && memcmp(der, in, len) == 0;
	}
	OPENSSL_free(der);
	ECDSA_SIG_free(s);
	ERR_clear_error();
	return ok;
}

static int decode_binary(uint8_t **out, size_t *outlen, enum ota_sig_alg alg,
			 const uint8_t *in, size_t len)
{
	size_t half = alg == OTA_SIG_ECDSA_P384_SHA384 ? 48 : 32;

	switch (alg) {
	case OTA_SIG_ECDSA_P256_SHA256:
	case OTA_SIG_ECDSA_P384_SHA384:
		if (is_der_ecdsa(in, len))
			break;
		if (len == 2 * half)
			return raw_ecdsa_to_der(out, outlen, in, half);
		return -1;
	case OTA_SIG_ED25519:
		if (len != 64)
			return -1;
		break;
	default: /* RSA: the modulus size of 2048, 3072 or 4096 bits */
		if (len != 256 && len != 384 && len != 512)
			return -1;
		break;
	}
	*out = malloc(len);
	if (!*out)
		return ota_error(OTA_EINTERNAL, "out of memory");
	memcpy(*out, in, len);
	*outlen = len;
	return 0;
}

int ota_signature_decode(uint8_t **out, size_t *outlen, enum ota_sig_alg alg,
			 const uint8_t *in, size_t inlen)
{
	uint8_t *bin = NULL;
	size_t binlen = 0;
	int rc;

	*out = NULL;
	/*
	 * Text first: base64 of an RSA-3072 signature is exactly as long as a
	 * binary RSA-4096 one, but binary signatures are random bytes and are
	 * never all base64 characters in practice.
	 */
	if (base64_decode(&bin, &binlen, in, inlen) == 0) {
		rc = decode_binary(out, outlen, alg, bin, binlen);
		free(bin);
		if (rc != -1)
			return rc;
	}
	rc = decode_binary(out, outlen, alg, in, inlen);
	if (rc != -1)
		return rc;
	return ota_error(
	    OTA_EINPUT, "not a %s signature (expected %s, binary or base64)",
	    ota_sig_alg_name(alg),
	    alg == OTA_SIG_ED25519             ? "64 bytes"
	    : alg <= OTA_SIG_ECDSA_P384_SHA384 ? "DER or raw r||s"
					       : "256 to 512 bytes");
}

int ota_certificate_load(uint8_t **der, size_t *der_len, EVP_PKEY **pub,
			 const char *path)
{
	const unsigned char *p;
	unsigned char *buf = NULL;
	X509 *cert = NULL;
	char *data = NULL;
	size_t len = 0;
	BIO *bio;
	int rc, n;

	*der = NULL;
	*pub = NULL;
	if ((rc = ota_file_read_small(&data, &len, path, KEY_FILE_MAX)))
		return rc;
	bio = BIO_new_mem_buf(data, (int)len);
	cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (!cert) {
		p = (const unsigned char *)data;
		cert = d2i_X509(NULL, &p, (long)len);
	}
	if (!cert) {
		rc = ota_error(OTA_EINPUT,
			       "%s: not an X.509 certificate (PEM or DER)",
			       path);
		goto out;
	}
	n = i2d_X509(cert, &buf);
	*pub = X509_get_pubkey(cert);
	if (n <= 0 || !*pub || !(*der = malloc((size_t)n))) {
		EVP_PKEY_free(*pub);
		*pub = NULL;
		rc = ota_error(OTA_EINPUT, "%s: unusable certificate", path);
		goto out;
	}
	memcpy(*der, buf, (size_t)n);
	*der_len = (size_t)n;
	rc = 0;
out:
	ERR_clear_error();
	OPENSSL_free(buf);
	X509_free(cert);
	free(data);
	return rc;
}

static EVP_PKEY *keygen(const char *type)
{
	if (strcmp(type, "ecdsa-p256") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (strcmp(type, "ecdsa-p384") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	if (strcmp(type, "ed25519") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (strcmp(type, "rsa-2048") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (strcmp(type, "rsa-3072") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	if (strcmp(type, "rsa-4096") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	return NULL;
}

static int bio_to_output(BIO *bio, const char *path, mode_t mode)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);

	return ota_output_write_file(path, data, (size_t)len, mode,
				     OTA_OUTPUT_EXCLUSIVE);
}

int ota_key_generate_file(char id[OTA_KEY_ID_LEN + 1], const char *type,
			  const char *private_path, const char *public_path)
{
	BIO *priv = NULL, *pub = NULL;
	EVP_PKEY *pkey = NULL;
	struct stat st;
	int rc;

	/* Encryption keys: otatool-encryption(7), cipher_key.c. */
	if (strcmp(type, "x25519") == 0)
		return ota_encrypt_key_generate_file(id, type, private_path,
						     public_path);
	/* Check both first: never leave a private key without its public. */
	if (stat(private_path, &st) == 0 || stat(public_path, &st) == 0)
		return ota_error(OTA_EOUTPUT,
				 "%s: already exists (refusing to overwrite a "
				 "key)",
				 stat(private_path, &st) == 0 ? private_path
							      : public_path);
	pkey = keygen(type);
	if (!pkey) {
		ERR_clear_error();
		return ota_error(OTA_EUSAGE, "unknown key type \"%s\" (%s)",
				 type, OTA_KEY_TYPES);
	}
	priv = BIO_new(BIO_s_secmem());
	pub = BIO_new(BIO_s_mem());
	if (!priv || !pub ||
	    !PEM_write_bio_PrivateKey(priv, pkey, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_PUBKEY(pub, pkey)) {
		rc = ota_error(OTA_EINTERNAL, "cannot encode the new key");
		goto out;
	}
	if ((rc = ota_key_id_of(id, pkey)) ||
	    (rc = bio_to_output(pub, public_path, 0644)))
		goto out;
	if ((rc = bio_to_output(priv, private_path, 0600))) {
		unlink(public_path);
		goto out;
	}
out:
	ERR_clear_error();
	BIO_free(priv); /* secure memory BIO: cleansed on free */
	BIO_free(pub);
	EVP_PKEY_free(pkey);
	return rc;
}

int ota_public_key_encode(uint8_t **out, size_t *len,
			  const struct ota_public_key *k, bool pem)
{
	EVP_PKEY *pub = k->pkey;
	unsigned char *der = NULL;
	char *data = NULL;
	BIO *bio;
	long n;

	*out = NULL;
	if (!pem) {
		int dl = i2d_PUBKEY(pub, &der);

		if (dl <= 0 || !(*out = malloc((size_t)dl))) {
			OPENSSL_free(der);
			return ota_error(OTA_EINTERNAL,
					 "cannot encode public key");
		}
		memcpy(*out, der, (size_t)dl);
		*len = (size_t)dl;
		OPENSSL_free(der);
		return 0;
	}
	bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_PUBKEY(bio, pub)) {
		BIO_free(bio);
		return ota_error(OTA_EINTERNAL, "cannot encode public key");
	}
	n = BIO_get_mem_data(bio, &data);
	*out = malloc((size_t)n);
	if (*out) {
		memcpy(*out, data, (size_t)n);
		*len = (size_t)n;
	}
	BIO_free(bio);
	return *out ? 0 : ota_error(OTA_EINTERNAL, "out of memory");
}

/*
 * Prehashed ECDSA/RSA through EVP_PKEY_sign/verify with the digest's md;
 * Ed25519 through the one-shot DigestSign over the digest bytes.
 */
static int digest_pctx_setup(EVP_PKEY_CTX *pctx, enum ota_sig_alg alg,
			     const struct ota_digest *d)
{
	const char *md = d->alg == OTA_DIGEST_SHA384   ? "SHA384"
			 : d->alg == OTA_DIGEST_SHA512 ? "SHA512"
						       : "SHA256";

	if (alg == OTA_SIG_ED25519)
		return 1;
	if (EVP_PKEY_CTX_set_signature_md(pctx, EVP_get_digestbyname(md)) <= 0)
		return 0;
	if (alg == OTA_SIG_RSA_PSS_SHA256)
		return EVP_PKEY_CTX_set_rsa_padding(
			   pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)d->len) >
			   0 &&
		       EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) > 0;
	if (alg == OTA_SIG_RSA_PKCS1_SHA256)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) >
		       0;
	return 1;
}

static int ed25519_over(uint8_t **sig, size_t *siglen, EVP_PKEY *pkey,
			const struct ota_digest *d)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 64;
	int ok;

	*sig = malloc(64);
	ok = ctx && *sig &&
	     EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, pkey, NULL) ==
		 1 &&
	     EVP_DigestSign(ctx, *sig, &len, d->bytes, d->len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		free(*sig);
		*sig = NULL;
		return -1;
	}
	*siglen = len;
	return 0;
}

int ota_key_sign_digest(uint8_t **sig, size_t *siglen, struct ota_key *k,
			const struct ota_digest *digest)
{
	EVP_PKEY_CTX *pctx = NULL;
	size_t len = 0;
	int rc;

	*sig = NULL;
	if (k->public_only)
		return ota_error(OTA_EKEY, "%s: a public key cannot sign",
				 k->ref);
	if (k->p11) {
		int nid = digest->alg == OTA_DIGEST_SHA384   ? NID_sha384
			  : digest->alg == OTA_DIGEST_SHA512 ? NID_sha512
							     : NID_sha256;

		rc = ota_pkcs11_sign(k->p11, token_mech[k->alg], nid,
				     digest->bytes, digest->len, sig, siglen);
	} else if (is_ecdsa(k->alg)) {
		rc = sign_ecdsa_file(sig, siglen, k, digest);
	} else if (k->alg == OTA_SIG_ED25519) {
		rc = ed25519_over(sig, siglen, k->pkey, digest)
			 ? ota_error(OTA_EKEY, "%s: signing failed", k->ref)
			 : 0;
	} else {
		pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
		if (!pctx || EVP_PKEY_sign_init(pctx) != 1 ||
		    !digest_pctx_setup(pctx, k->alg, digest) ||
		    EVP_PKEY_sign(pctx, NULL, &len, digest->bytes,
				  digest->len) != 1 ||
		    !(*sig = malloc(len)) ||
		    EVP_PKEY_sign(pctx, *sig, &len, digest->bytes,
				  digest->len) != 1) {
			free(*sig);
			*sig = NULL;
			rc = ota_error(OTA_EKEY, "%s: signing failed", k->ref);
		} else {
			*siglen = len;
			rc = 0;
		}
		EVP_PKEY_CTX_free(pctx);
	}
	ERR_clear_error();
	if (rc)
		return rc;
	if (ota_signature_verify_digest(ota_key_pkey(k), k->alg, digest, *sig,
					*siglen)) {
		free(*sig);
		*sig = NULL;
		return ota_error(OTA_EKEY,
				 "%s: the signature it made does not verify "
				 "with its public key",
				 k->ref);
	}
	return 0;
}

int ota_signature_verify_digest(EVP_PKEY *pub, enum ota_sig_alg alg,
				const struct ota_digest *digest,
				const uint8_t *sig, size_t siglen)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *ctx = NULL;
	int ok = 0;

	if (ota_sig_alg_check(alg, pub))
		return ota_error_wrap(OTA_EVERIFY, "signature does not verify");
	if (alg == OTA_SIG_ED25519) {
		ctx = EVP_MD_CTX_new();
		ok = ctx &&
		     EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, pub,
					     NULL) == 1 &&
		     EVP_DigestVerify(ctx, sig, siglen, digest->bytes,
				      digest->len) == 1;
		EVP_MD_CTX_free(ctx);
	} else {
		pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
		ok = pctx && EVP_PKEY_verify_init(pctx) == 1 &&
		     digest_pctx_setup(pctx, alg, digest) &&
		     EVP_PKEY_verify(pctx, sig, siglen, digest->bytes,
				     digest->len) == 1;
		EVP_PKEY_CTX_free(pctx);
	}
	ERR_clear_error();
	return ok ? 0
		  : ota_error(OTA_EVERIFY, "%s signature does not verify",
			      ota_sig_alg_name(alg));
}

int ota_key_set_certificate(struct ota_key *k, const char *path)
{
	EVP_PKEY *pub = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ota_certificate_load(&der, &len, &pub, path)))
		return rc;
	if (EVP_PKEY_eq(pub, ota_key_pkey(k)) != 1) {
		free(der);
		EVP_PKEY_free(pub);
		return ota_error(OTA_EKEY,
				 "%s: certificate does not match the key %s; "
				 "refusing to sign",
				 path, k->ref);
	}
	EVP_PKEY_free(pub);
	if (k->n_certs > 0) {
		free(k->certs[0]);
	} else {
		k->n_certs = 1;
	}
	k->certs[0] = der;
	k->cert_lens[0] = len;
	return 0;
}

int ota_key_add_chain_der(struct ota_key *k, const uint8_t *der, size_t len)
{
	if (k->n_certs == 0)
		return ota_error(OTA_EUSAGE,
				 "%s: intermediates need the key's own "
				 "certificate first (--cert)",
				 k->ref);
	if (k->n_certs == KEY_MAX_CERTS)
		return ota_error(OTA_EINPUT, "%s: more than %d certificates",
				 k->ref, KEY_MAX_CERTS);
	k->certs[k->n_certs] = malloc(len);
	if (!k->certs[k->n_certs])
		return ota_error(OTA_EINTERNAL, "out of memory");
	memcpy(k->certs[k->n_certs], der, len);
	k->cert_lens[k->n_certs++] = len;
	return 0;
}

size_t ota_key_certs(const struct ota_key *k, const uint8_t *const **der,
		     const size_t **lens)
{
	*der = (const uint8_t *const *)k->certs;
	*lens = k->cert_lens;
	return k->n_certs;
}
