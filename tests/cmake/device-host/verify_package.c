/*
 * verify_package PUBKEY.pem PACKAGE [HARDWARE]: what a device's host-side
 * test does with otatool's device library: feed a package to otav_feed()
 * in flash-sized chunks, with the crypto callbacks a bootloader would
 * give (here OpenSSL: SHA-2 and ECDSA/RSA/Ed25519 against one trusted
 * public key). Prints the verifier's status name; exits 0 for a valid
 * package, 1 for a refused one, 2 on a usage or setup error.
 */
#include <otaverify.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

struct host_crypto {
	EVP_MD_CTX *md;
	EVP_PKEY *trusted;
	uint8_t keyid[32];
};

static const EVP_MD *md_of(uint8_t alg)
{
	switch (alg) {
	case OTAPKG_DIGEST_SHA256:
		return EVP_sha256();
	case OTAPKG_DIGEST_SHA384:
		return EVP_sha384();
	case OTAPKG_DIGEST_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

static int hash_init(void *ctx, uint8_t alg)
{
	struct host_crypto *c = ctx;
	const EVP_MD *md = md_of(alg);

	return !md || !EVP_DigestInit_ex(c->md, md, NULL);
}

static int hash_update(void *ctx, const uint8_t *data, size_t len)
{
	return !EVP_DigestUpdate(((struct host_crypto *)ctx)->md, data, len);
}

static int hash_final(void *ctx, uint8_t *out)
{
	return !EVP_DigestFinal_ex(((struct host_crypto *)ctx)->md, out, NULL);
}

static const EVP_MD *md_of_len(size_t len)
{
	return len == 32   ? EVP_sha256()
	       : len == 48 ? EVP_sha384()
	       : len == 64 ? EVP_sha512()
			   : NULL;
}

static int verify(void *ctx, const struct otav_sig *sig, const uint8_t *digest,
		  size_t digest_len)
{
	struct host_crypto *c = ctx;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *mctx = NULL;
	int ok = 0;

	if (memcmp(sig->keyid, c->keyid, sizeof(c->keyid)) != 0)
		return 1; /* another signer's entry */
	if (sig->alg == OTAPKG_SIG_ED25519) {
		/* Ed25519 signs the bytes of the digest as its message. */
		mctx = EVP_MD_CTX_new();
		ok = mctx &&
		     EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, c->trusted) ==
			 1 &&
		     EVP_DigestVerify(mctx, sig->sig, sig->len, digest,
				      digest_len) == 1;
		EVP_MD_CTX_free(mctx);
		return ok ? 0 : -1;
	}
	pctx = EVP_PKEY_CTX_new(c->trusted, NULL);
	ok = pctx && EVP_PKEY_verify_init(pctx) == 1 &&
	     EVP_PKEY_CTX_set_signature_md(pctx, md_of_len(digest_len)) == 1;
	if (ok && sig->alg == OTAPKG_SIG_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx,
						  RSA_PKCS1_PSS_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)digest_len) ==
			 1;
	ok = ok &&
	     EVP_PKEY_verify(pctx, sig->sig, sig->len, digest, digest_len) == 1;
	EVP_PKEY_CTX_free(pctx);
	return ok ? 0 : -1;
}

static int load_key(struct host_crypto *c, const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned char *der = NULL;
	unsigned int n = 0;
	int len;

	if (!f)
		return -1;
	c->trusted = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!c->trusted)
		return -1;
	/* The key id of otatool-package(5): SHA-256 of the DER SPKI. */
	len = i2d_PUBKEY(c->trusted, &der);
	if (len <= 0)
		return -1;
	if (!EVP_Digest(der, (size_t)len, c->keyid, &n, EVP_sha256(), NULL))
		n = 0;
	OPENSSL_free(der);
	return n == 32 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct otav v; /* the verifier's whole state */
	struct host_crypto hc = { 0 };
	struct otav_crypto crypto = { &hc, hash_init, hash_update, hash_final,
				      verify };
	struct otav_policy policy = { 0 };
	uint8_t chunk[512]; /* a flash page at a time */
	enum otav_status st = OTAV_OK;
	size_t n;
	FILE *f;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s PUBKEY.pem PACKAGE [HARDWARE]\n",
			argv[0]);
		return 2;
	}
	hc.md = EVP_MD_CTX_new();
	if (!hc.md || load_key(&hc, argv[1])) {
		fprintf(stderr, "%s: cannot load the key\n", argv[1]);
		return 2;
	}
	policy.hardware = argc == 4 ? argv[3] : NULL;
	f = fopen(argv[2], "rb");
	if (!f) {
		perror(argv[2]);
		return 2;
	}
	otav_init(&v, &crypto, &policy, NULL);
	while (st == OTAV_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		st = otav_feed(&v, chunk, n);
	fclose(f);
	if (st == OTAV_OK)
		st = otav_finish(&v);
	printf("%s: %s (%u image%s, state %zu bytes)\n", argv[2],
	       otav_status_name(st), v.info.image_count,
	       v.info.image_count == 1 ? "" : "s", sizeof(v));
	EVP_MD_CTX_free(hc.md);
	EVP_PKEY_free(hc.trusted);
	return st == OTAV_OK ? 0 : 1;
}
