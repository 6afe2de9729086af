/*
 * Certificate hierarchies for test_chain.c, generated at test time with the
 * OpenSSL API: keys, certificates with chosen extensions, and CRLs. Every
 * object made here is owned by the fixture and freed by fx_release().
 */
#ifndef OTATOOL_TEST_CHAIN_FIXTURES_H
#define OTATOOL_TEST_CHAIN_FIXTURES_H

#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* date -u -d ... +%s */
#define T_2020    INT64_C(1577836800)
#define T_2021    INT64_C(1609459200)
#define T_2025_06 INT64_C(1748736000) /* 2025-06-01 */
#define T_2026    INT64_C(1767225600)
#define T_2026_10 INT64_C(1790812800) /* 2026-10-01 */
#define T_2026_11 INT64_C(1793491200) /* 2026-11-01 */
#define T_2026_12 INT64_C(1796083200) /* 2026-12-01 */
#define T_2027    INT64_C(1798761600)
#define T_2035    INT64_C(2051222400)
#define T_2040    INT64_C(2208988800)
#define T_CHECK   INT64_C(1795510800) /* 2026-11-24T09:00:00Z */

#define FX_MAX 64

/*
 * clang-format takes STACK_OF(X509) **p for a multiplication; these names
 * keep pointer declarations readable (and are the very same types).
 */
typedef STACK_OF(X509) cert_stack;
typedef STACK_OF(X509_CRL) crl_stack;

/* Everything a test made, freed after it. */
static struct {
	EVP_PKEY *keys[FX_MAX];
	X509 *certs[FX_MAX];
	X509_CRL *crls[FX_MAX];
	cert_stack *stacks[FX_MAX];
	crl_stack *crl_stacks[FX_MAX];
	size_t n_keys, n_certs, n_crls, n_stacks, n_crl_stacks;
} fx;

static void fx_release(void)
{
	for (size_t i = 0; i < fx.n_keys; i++)
		EVP_PKEY_free(fx.keys[i]);
	for (size_t i = 0; i < fx.n_certs; i++)
		X509_free(fx.certs[i]);
	for (size_t i = 0; i < fx.n_crls; i++)
		X509_CRL_free(fx.crls[i]);
	for (size_t i = 0; i < fx.n_stacks; i++)
		sk_X509_free(fx.stacks[i]); /* the certificates are above */
	for (size_t i = 0; i < fx.n_crl_stacks; i++)
		sk_X509_CRL_free(fx.crl_stacks[i]);
	memset(&fx, 0, sizeof(fx));
}

/* "P-256", "P-384", "P-224", "ED25519", "RSA-1024", "RSA-2048". */
static EVP_PKEY *fx_key(const char *type)
{
	EVP_PKEY *k;

	cr_assert_lt(fx.n_keys, FX_MAX);
	if (strncmp(type, "RSA-", 4) == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
				      (size_t)strtoul(type + 4, NULL, 10));
	else if (strcmp(type, "ED25519") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", type);
	cr_assert_not_null(k, "cannot generate a %s key", type);
	fx.keys[fx.n_keys++] = k;
	return k;
}

struct fx_spec {
	const char *cn;
	const char *issuer_cn; /* overrides the issuer's name when set */
	long serial;
	int64_t not_before, not_after;
	const char *bc, *ku, *eku; /* X509V3 configuration values, or NULL */
	bool sha1;                 /* sign with SHA-1 instead of SHA-256 */
};

static void fx_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext;

	if (!value)
		return;
	ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	cr_assert_not_null(ext, "extension %s=%s", OBJ_nid2sn(nid), value);
	cr_assert(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
}

static X509_NAME *fx_name(const char *cn)
{
	X509_NAME *nm = X509_NAME_new();

	cr_assert_not_null(nm);
	cr_assert(X509_NAME_add_entry_by_txt(
	    nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0));
	return nm;
}

/*
 * A certificate for key, issued by issuer (NULL: self-signed) and signed
 * with sign_key (normally the issuer's key; another key makes a bad
 * signature with otherwise matching names and key identifiers).
 */
static X509 *fx_cert(const struct fx_spec *s, EVP_PKEY *key, X509 *issuer,
		     EVP_PKEY *sign_key)
{
	X509 *x = X509_new();
	X509_NAME *subj = fx_name(s->cn), *iss;
	X509V3_CTX v3;
	const EVP_MD *md;

	cr_assert_not_null(x);
	cr_assert_lt(fx.n_certs, FX_MAX);
	cr_assert(X509_set_version(x, X509_VERSION_3));
	cr_assert(ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial));
	cr_assert(X509_set_subject_name(x, subj));
	if (s->issuer_cn)
		iss = fx_name(s->issuer_cn);
	else
		iss = X509_NAME_dup(issuer ? X509_get_subject_name(issuer)
					   : subj);
	cr_assert(X509_set_issuer_name(x, iss));
	X509_NAME_free(subj);
	X509_NAME_free(iss);
	cr_assert(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)s->not_before));
	cr_assert(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)s->not_after));
	cr_assert(X509_set_pubkey(x, key));

	memset(&v3, 0, sizeof(v3));
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	fx_ext(x, &v3, NID_basic_constraints, s->bc);
	fx_ext(x, &v3, NID_key_usage, s->ku);
	fx_ext(x, &v3, NID_ext_key_usage, s->eku);
	fx_ext(x, &v3, NID_subject_key_identifier, "hash");
	fx_ext(x, &v3, NID_authority_key_identifier, "keyid:always");

	if (!sign_key)
		sign_key = key;
	if (EVP_PKEY_is_a(sign_key, "ED25519"))
		md = NULL;
	else
		md = s->sha1 ? EVP_sha1() : EVP_sha256();
	cr_assert_gt(X509_sign(x, sign_key, md), 0, "cannot sign %s", s->cn);
	fx.certs[fx.n_certs++] = x;
	return x;
}

/* A v2 CRL from issuer, revoking the given serials (revoked at T_2026). */
static X509_CRL *fx_crl(X509 *issuer, EVP_PKEY *key, int64_t last, int64_t next,
			const long *serials, size_t n)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	cr_assert(crl && t && num);
	cr_assert_lt(fx.n_crls, FX_MAX);
	cr_assert(X509_CRL_set_version(crl, X509_CRL_VERSION_2));
	cr_assert(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)));
	cr_assert(ASN1_TIME_set(t, (time_t)last));
	cr_assert(X509_CRL_set1_lastUpdate(crl, t));
	cr_assert(ASN1_TIME_set(t, (time_t)next));
	cr_assert(X509_CRL_set1_nextUpdate(crl, t));
	for (size_t i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *sn = ASN1_INTEGER_new();

		cr_assert(r && sn);
		cr_assert(ASN1_INTEGER_set(sn, serials[i]));
		cr_assert(X509_REVOKED_set_serialNumber(r, sn));
		cr_assert(ASN1_TIME_set(t, (time_t)T_2026));
		cr_assert(X509_REVOKED_set_revocationDate(r, t));
		cr_assert(X509_CRL_add0_revoked(crl, r));
		ASN1_INTEGER_free(sn);
	}
	cr_assert(X509_CRL_sort(crl));
	cr_assert(ASN1_INTEGER_set(num, 1));
	cr_assert(X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0));
	memset(&v3, 0, sizeof(v3));
	X509V3_set_ctx(&v3, issuer, NULL, NULL, crl, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier,
				  "keyid:always");
	cr_assert_not_null(ext);
	cr_assert(X509_CRL_add_ext(crl, ext, -1));
	X509_EXTENSION_free(ext);
	cr_assert_gt(
	    X509_CRL_sign(crl, key,
			  EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256()),
	    0);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(num);
	fx.crls[fx.n_crls++] = crl;
	return crl;
}

/* A stack of the given certificates (NULL-terminated), not owning them. */
static cert_stack *fx_stack(X509 *first, ...)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	va_list ap;

	cr_assert_not_null(sk);
	cr_assert_lt(fx.n_stacks, FX_MAX);
	va_start(ap, first);
	for (X509 *x = first; x; x = va_arg(ap, X509 *))
		cr_assert(sk_X509_push(sk, x));
	va_end(ap);
	fx.stacks[fx.n_stacks++] = sk;
	return sk;
}

static crl_stack *fx_crls(X509_CRL *first, ...)
{
	STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();
	va_list ap;

	cr_assert_not_null(sk);
	cr_assert_lt(fx.n_crl_stacks, FX_MAX);
	va_start(ap, first);
	for (X509_CRL *c = first; c; c = va_arg(ap, X509_CRL *))
		cr_assert(sk_X509_CRL_push(sk, c));
	va_end(ap);
	fx.crl_stacks[fx.n_crl_stacks++] = sk;
	return sk;
}

/* The usual shapes: a root, its intermediate, and a code-signing leaf. */
static const struct fx_spec FX_ROOT = {
	.cn = "Acme Root CA",
	.serial = 1,
	.not_before = T_2020,
	.not_after = T_2040,
	.bc = "critical,CA:TRUE",
	.ku = "critical,keyCertSign,cRLSign",
};

static const struct fx_spec FX_POLICY_CA = {
	.cn = "Acme Policy CA",
	.serial = 3,
	.not_before = T_2021,
	.not_after = T_2035,
	.bc = "critical,CA:TRUE,pathlen:1",
	.ku = "critical,keyCertSign,cRLSign",
};

static const struct fx_spec FX_INTER = {
	.cn = "Acme Intermediate",
	.serial = 2,
	.not_before = T_2021,
	.not_after = T_2035,
	.bc = "critical,CA:TRUE,pathlen:0",
	.ku = "critical,keyCertSign,cRLSign",
};

static const struct fx_spec FX_SIGNER = {
	.cn = "fw-signer",
	.serial = 0x1A,
	.not_before = T_2026,
	.not_after = T_2027,
	.bc = "critical,CA:FALSE",
	.ku = "critical,digitalSignature",
	.eku = "codeSigning",
};

struct fx_pki {
	EVP_PKEY *root_key, *inter_key, *signer_key;
	X509 *root, *inter, *signer;
};

/* Root and intermediate (P-256); the signer is made by the test. */
static void fx_pki_cas(struct fx_pki *p)
{
	p->root_key = fx_key("P-256");
	p->inter_key = fx_key("P-256");
	p->root = fx_cert(&FX_ROOT, p->root_key, NULL, NULL);
	p->inter = fx_cert(&FX_INTER, p->inter_key, p->root, p->root_key);
}

/* The signer of spec s with a key of type, issued by the intermediate. */
static X509 *fx_pki_signer(struct fx_pki *p, const struct fx_spec *s,
			   const char *type)
{
	p->signer_key = fx_key(type);
	p->signer = fx_cert(s, p->signer_key, p->inter, p->inter_key);
	return p->signer;
}

static void fx_pki(struct fx_pki *p)
{
	fx_pki_cas(p);
	fx_pki_signer(p, &FX_SIGNER, "P-256");
}

/* The same shape with a different intermediate and signer. */
static void fx_pki_with(struct fx_pki *p, const struct fx_spec *inter,
			const struct fx_spec *signer)
{
	p->root_key = fx_key("P-256");
	p->inter_key = fx_key("P-256");
	p->root = fx_cert(&FX_ROOT, p->root_key, NULL, NULL);
	p->inter = fx_cert(inter, p->inter_key, p->root, p->root_key);
	fx_pki_signer(p, signer, "P-256");
}

#endif
