/*
 * Unit tests for src/lib/tsa.c: queries read back with OpenSSL, replies
 * made by OpenSSL's own responder (TS_RESP_CTX) with a TSA certificate
 * made here, and every check a reply and a token must pass: status,
 * imprint, nonce, the TSA's signature, its critical timeStamping usage,
 * its chain, and bit flips.
 */
#include <criterion/criterion.h>

#include "chain_priv.h"
#include "otatool/error.h"
#include "otatool/tsa.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tsa {
	EVP_PKEY *key;
	X509 *cert;
};

/* A self-signed TSA certificate; eku is its extendedKeyUsage value. */
static void tsa_make(struct tsa *t, const char *eku)
{
	X509_NAME *name;
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	t->key = EVP_EC_gen("P-256");
	t->cert = X509_new();
	cr_assert(t->key && t->cert);
	X509_set_version(t->cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(t->cert), 7);
	X509_gmtime_adj(X509_getm_notBefore(t->cert), -86400);
	X509_gmtime_adj(X509_getm_notAfter(t->cert), 86400 * 365);
	name = X509_get_subject_name(t->cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"Unit TSA", -1, -1,
				   0);
	X509_set_issuer_name(t->cert, name);
	X509_set_pubkey(t->cert, t->key);
	X509V3_set_ctx(&v3, t->cert, t->cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, eku);
	cr_assert_not_null(ext);
	X509_add_ext(t->cert, ext, -1);
	X509_EXTENSION_free(ext);
	cr_assert(X509_sign(t->cert, t->key, EVP_sha256()) > 0);
}

static void tsa_free(struct tsa *t)
{
	EVP_PKEY_free(t->key);
	X509_free(t->cert);
}

/* OpenSSL's responder answers query: the reply's DER in *out. */
static void tsa_reply(const struct tsa *t, const uint8_t *query, size_t qlen,
		      uint8_t **out, size_t *len)
{
	TS_RESP_CTX *ctx = TS_RESP_CTX_new();
	ASN1_OBJECT *policy = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
	BIO *in = BIO_new_mem_buf(query, (int)qlen);
	TS_RESP *resp;
	unsigned char *der = NULL;
	int n;

	cr_assert(ctx && policy && in);
	cr_assert(TS_RESP_CTX_set_signer_cert(ctx, t->cert));
	cr_assert(TS_RESP_CTX_set_signer_key(ctx, t->key));
	cr_assert(TS_RESP_CTX_set_def_policy(ctx, policy));
	cr_assert(TS_RESP_CTX_add_md(ctx, EVP_sha256()));
	resp = TS_RESP_create_response(ctx, in);
	cr_assert_not_null(resp);
	n = i2d_TS_RESP(resp, &der);
	cr_assert(n > 0);
	*out = malloc((size_t)n);
	memcpy(*out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	TS_RESP_free(resp);
	BIO_free(in);
	ASN1_OBJECT_free(policy);
	TS_RESP_CTX_free(ctx);
}

static struct ota_cert_list *list_of(X509 *c)
{
	struct ota_cert_list *l = calloc(1, sizeof(*l));

	cr_assert_not_null(l);
	l->certs = sk_X509_new_null();
	X509_up_ref(c);
	sk_X509_push(l->certs, c);
	return l;
}

static const uint8_t sig[71] = { 0x30, 0x45, 0x02, 0x21, 0x00, 0x9a };
static const uint8_t other_sig[64] = { 1, 2, 3 };

Test(tsa, query_is_what_rfc3161_asks)
{
	uint8_t *q, d[32];
	size_t n;
	const unsigned char *p;
	TS_REQ *req;
	TS_MSG_IMPRINT *mi;
	uint8_t *q2;
	size_t n2;

	cr_assert_eq(ota_tsa_request(&q, &n, sig, sizeof(sig)), 0);
	p = q;
	req = d2i_TS_REQ(NULL, &p, (long)n);
	cr_assert_not_null(req);
	cr_assert_eq(p, q + n);
	cr_assert_eq(TS_REQ_get_version(req), 1);
	cr_assert_eq(TS_REQ_get_cert_req(req), 1);
	cr_assert_not_null(TS_REQ_get_nonce(req));
	mi = TS_REQ_get_msg_imprint(req);
	cr_assert_eq(OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(mi)->algorithm),
		     NID_sha256);
	EVP_Digest(sig, sizeof(sig), d, NULL, EVP_sha256(), NULL);
	cr_assert_eq(ASN1_STRING_length(TS_MSG_IMPRINT_get_msg(mi)), 32);
	cr_assert_arr_eq(ASN1_STRING_get0_data(TS_MSG_IMPRINT_get_msg(mi)), d,
			 32);
	/* a fresh nonce every time */
	cr_assert_eq(ota_tsa_request(&q2, &n2, sig, sizeof(sig)), 0);
	cr_assert(n != n2 || memcmp(q, q2, n) != 0);
	TS_REQ_free(req);
	free(q);
	free(q2);
}

Test(tsa, good_reply_and_token)
{
	struct tsa t;
	struct ota_tsa_info info;
	struct ota_cert_list *anchors;
	uint8_t *q, *r, *tok;
	size_t qn, rn, tn;
	time_t now = time(NULL);

	tsa_make(&t, "critical,timeStamping");
	anchors = list_of(t.cert);
	cr_assert_eq(ota_tsa_request(&q, &qn, sig, sizeof(sig)), 0);
	tsa_reply(&t, q, qn, &r, &rn);
	cr_assert(ota_tsa_reply_matches(r, rn, sig, sizeof(sig)));
	cr_assert(!ota_tsa_reply_matches(r, rn, other_sig, sizeof(other_sig)));
	cr_assert_eq(ota_tsa_reply_check(&tok, &tn, &info, r, rn, q, qn, sig,
					 sizeof(sig), anchors),
		     0, "%s", ota_error_message());
	cr_assert(info.gen_time >= now - 5 && info.gen_time <= now + 5);
	cr_assert_str_eq(info.tsa, "CN=Unit TSA");
	cr_assert(ota_tsa_token_matches(tok, tn, sig, sizeof(sig)));
	memset(&info, 0, sizeof(info));
	cr_assert_eq(
	    ota_tsa_token_check(&info, tok, tn, sig, sizeof(sig), anchors), 0,
	    "%s", ota_error_message());
	cr_assert_str_eq(info.tsa, "CN=Unit TSA");
	/* without anchors: the signature and purpose only */
	cr_assert_eq(
	    ota_tsa_token_check(&info, tok, tn, sig, sizeof(sig), NULL), 0);
	/* over other bytes */
	cr_assert_eq(ota_tsa_token_check(&info, tok, tn, other_sig,
					 sizeof(other_sig), anchors),
		     OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "does not verify") != NULL, "%s",
		  ota_error_message());
	free(tok);
	cr_assert_eq(ota_tsa_reply_check(&tok, &tn, &info, r, rn, q, qn,
					 other_sig, sizeof(other_sig), NULL),
		     OTA_EVERIFY);
	free(q);
	free(r);
	free(tok);
	ota_cert_list_free(anchors);
	tsa_free(&t);
}

Test(tsa, nonce_trust_and_usage)
{
	struct tsa t, other;
	struct ota_tsa_info info;
	struct ota_cert_list *wrong;
	uint8_t *q, *q2, *r, *tok = NULL;
	size_t qn, qn2, rn, tn;

	tsa_make(&t, "critical,timeStamping");
	tsa_make(&other, "critical,timeStamping");
	wrong = list_of(other.cert);
	cr_assert_eq(ota_tsa_request(&q, &qn, sig, sizeof(sig)), 0);
	cr_assert_eq(ota_tsa_request(&q2, &qn2, sig, sizeof(sig)), 0);
	tsa_reply(&t, q, qn, &r, &rn);
	/* the reply to q is not the reply to q2: its nonce differs */
	cr_assert_eq(ota_tsa_reply_check(&tok, &tn, &info, r, rn, q2, qn2, sig,
					 sizeof(sig), NULL),
		     OTA_EVERIFY);
	/* without the query, the nonce cannot be checked: accepted */
	cr_assert_eq(ota_tsa_reply_check(&tok, &tn, &info, r, rn, NULL, 0, sig,
					 sizeof(sig), NULL),
		     0);
	/* a TSA outside the anchors */
	cr_assert_eq(
	    ota_tsa_token_check(&info, tok, tn, sig, sizeof(sig), wrong),
	    OTA_EUNTRUSTED);
	cr_assert(strstr(ota_error_message(), "is not trusted") != NULL);
	free(tok);
	free(r);
	/*
	 * A certificate whose timeStamping usage is not critical: OpenSSL's
	 * responder will not sign with it (TS_RESP_CTX_set_signer_cert), and
	 * its verifier refuses it (the same purpose check); the e2e test
	 * has only a critical one.
	 */
	free(q);
	free(q2);
	ota_cert_list_free(wrong);
	tsa_free(&t);
	tsa_free(&other);
}

Test(tsa, refusals_and_bit_flips)
{
	struct tsa t;
	struct ota_tsa_info info;
	uint8_t *q, *r, *tok;
	size_t qn, rn, tn;
	static const uint8_t junk[4] = { 0x30, 0x02, 0x05, 0x00 };
	unsigned accepted = 0;

	tsa_make(&t, "critical,timeStamping");
	cr_assert_eq(ota_tsa_request(&q, &qn, sig, sizeof(sig)), 0);
	tsa_reply(&t, q, qn, &r, &rn);
	cr_assert_eq(ota_tsa_reply_check(&tok, &tn, &info, r, rn, q, qn, sig,
					 sizeof(sig), NULL),
		     0);
	{
		uint8_t *none;
		size_t nn;

		cr_assert_eq(ota_tsa_reply_check(&none, &nn, &info, junk,
						 sizeof(junk), q, qn, sig,
						 sizeof(sig), NULL),
			     OTA_EVERIFY);
		cr_assert_null(none);
	}
	cr_assert_eq(ota_tsa_token_check(&info, junk, sizeof(junk), sig,
					 sizeof(sig), NULL),
		     OTA_EVERIFY);
	/*
	 * One bit in each byte of the token. OpenSSL's PKCS#7 check ignores
	 * a few bytes that carry no meaning (the SignedData version, NULL
	 * algorithm parameters, the SignerInfo's signatureAlgorithm OID,
	 * which the key's type decides): a flip there is accepted, with the
	 * same time and TSA. Every flip in the TSTInfo (imprint, serial,
	 * genTime, nonce) and in the signature is refused.
	 */
	{
		uint8_t d[32];
		size_t at = 0, end;
		int64_t when = info.gen_time;

		EVP_Digest(sig, sizeof(sig), d, NULL, EVP_sha256(), NULL);
		while (at + 32 <= tn && memcmp(tok + at, d, 32) != 0)
			at++;
		cr_assert(at + 32 <= tn, "the imprint is in the token");
		end = at + 32 + 40; /* serial, genTime, accuracy, nonce */
		for (size_t i = 0; i < tn; i++) {
			tok[i] ^= 0x10;
			if (ota_tsa_token_check(&info, tok, tn, sig,
						sizeof(sig), NULL) == 0) {
				accepted++;
				cr_assert((i < at || i >= end) && i < tn - 70,
					  "flip at %zu accepted", i);
				cr_assert_eq(info.gen_time, when);
				cr_assert_str_eq(info.tsa, "CN=Unit TSA");
			}
			tok[i] ^= 0x10;
		}
	}
	cr_assert_leq(accepted, 16, "%u flipped tokens accepted", accepted);
	cr_assert_eq(
	    ota_tsa_token_check(&info, tok, tn, sig, sizeof(sig), NULL), 0,
	    "%s", ota_error_message());
	free(tok);
	/* a rejection: the responder does not take SHA-1 */
	{
		TS_REQ *req = TS_REQ_new();
		TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
		X509_ALGOR *alg = X509_ALGOR_new();
		uint8_t d[20] = { 0 }, *q1 = NULL, *r1;
		size_t r1n;
		int n;

		X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha1), V_ASN1_NULL, NULL);
		TS_MSG_IMPRINT_set_algo(mi, alg);
		TS_MSG_IMPRINT_set_msg(mi, d, sizeof(d));
		TS_REQ_set_version(req, 1);
		TS_REQ_set_msg_imprint(req, mi);
		n = i2d_TS_REQ(req, &q1);
		tsa_reply(&t, q1, (size_t)n, &r1, &r1n);
		cr_assert_eq(ota_tsa_reply_check(&tok, &tn, &info, r1, r1n,
						 NULL, 0, sig, sizeof(sig),
						 NULL),
			     OTA_EVERIFY);
		cr_assert(strstr(ota_error_message(), "refused") != NULL, "%s",
			  ota_error_message());
		free(r1);
		OPENSSL_free(q1);
		X509_ALGOR_free(alg);
		TS_MSG_IMPRINT_free(mi);
		TS_REQ_free(req);
	}
	free(q);
	free(r);
	tsa_free(&t);
}

Test(tsa, urls)
{
	uint8_t *r;
	size_t n;

	cr_assert_eq(ota_tsa_fetch(&r, &n, "not a url", sig, sizeof(sig)),
		     OTA_EINPUT);
	cr_assert_eq(
	    ota_tsa_fetch(&r, &n, "https://127.0.0.1/x", sig, sizeof(sig)),
	    OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "https is not supported") !=
		  NULL);
	cr_assert_eq(
	    ota_tsa_fetch(&r, &n, "http://127.0.0.1:1/x", sig, sizeof(sig)),
	    OTA_EINPUT);
	cr_assert_null(r);
}
