/*
 * RFC 3161 with OpenSSL's TS API: queries over one signature's bytes, the
 * HTTP exchange with a time-stamping authority (OSSL_HTTP_transfer, plain
 * HTTP), and two checks of a token: that it is a genuine TSA signature
 * over these bytes (the token's own certificate taken as anchor: a
 * failure is a forgery or a token over other bytes), then that the TSA
 * chains to the roots the verifier names (a failure is an untrusted TSA).
 */
#include "otatool/tsa.h"
#include "chain_priv.h"
#include "otatool/error.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/http.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>

/* The reason OpenSSL gave last, for a message; clears its queue. */
static const char *ssl_reason(void)
{
	static char buf[160];
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, sizeof(buf), "%s", r ? r : "no reason given");
	ERR_clear_error();
	return buf;
}

int ota_tsa_request(uint8_t **der, size_t *len, const uint8_t *sig,
		    size_t siglen)
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = NULL;
	BIGNUM *bn = BN_new();
	uint8_t digest[32], rnd[8];
	unsigned char *out = NULL;
	int n, rc = OTA_EINTERNAL;

	*der = NULL;
	*len = 0;
	if (!req || !mi || !alg || !bn)
		goto out;
	if (EVP_Digest(sig, siglen, digest, NULL, EVP_sha256(), NULL) != 1 ||
	    RAND_bytes(rnd, sizeof(rnd)) != 1 ||
	    !BN_bin2bn(rnd, sizeof(rnd), bn) ||
	    !(nonce = BN_to_ASN1_INTEGER(bn, NULL)))
		goto out;
	X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL);
	if (!TS_MSG_IMPRINT_set_algo(mi, alg) ||
	    !TS_MSG_IMPRINT_set_msg(mi, digest, sizeof(digest)) ||
	    !TS_REQ_set_version(req, 1) || !TS_REQ_set_msg_imprint(req, mi) ||
	    !TS_REQ_set_nonce(req, nonce) || !TS_REQ_set_cert_req(req, 1))
		goto out;
	n = i2d_TS_REQ(req, &out);
	if (n <= 0)
		goto out;
	*der = malloc((size_t)n);
	if (!*der)
		goto out;
	memcpy(*der, out, (size_t)n);
	*len = (size_t)n;
	rc = 0;
out:
	if (rc)
		ota_error(rc, "making a timestamp query failed: %s",
			  ssl_reason());
	OPENSSL_free(out);
	ASN1_INTEGER_free(nonce);
	BN_free(bn);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	TS_REQ_free(req);
	return rc;
}

int ota_tsa_fetch(uint8_t **reply, size_t *len, const char *url,
		  const uint8_t *query, size_t query_len)
{
	char *host = NULL, *port = NULL, *path = NULL;
	BIO *req = NULL, *rsp = NULL;
	int ssl = 0, rc = 0;

	*reply = NULL;
	*len = 0;
	if (!OSSL_HTTP_parse_url(url, &ssl, NULL, &host, &port, NULL, &path,
				 NULL, NULL)) {
		ERR_clear_error();
		return ota_error(
		    OTA_EINPUT, "--tsa %s: not a URL (http://HOST[:PORT]/PATH)",
		    url);
	}
	if (ssl) {
		rc = ota_error(OTA_EINPUT,
			       "--tsa %s: https is not supported: use an http "
			       "URL, or --tsa-request and otatool timestamp "
			       "add with a reply fetched otherwise",
			       url);
		goto out;
	}
	req = BIO_new_mem_buf(query, (int)query_len);
	if (!req) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	/*
	 * expect_asn1: the reply (a DER SEQUENCE) is read whole, within
	 * OTA_TSA_MAX_REPLY, into a memory BIO, not streamed off the socket.
	 */
	rsp = OSSL_HTTP_transfer(NULL, host, port, path, 0, NULL, NULL, NULL,
				 NULL, NULL, NULL, 0, NULL,
				 "application/timestamp-query", req,
				 "application/timestamp-reply", 1,
				 OTA_TSA_MAX_REPLY, OTA_TSA_TIMEOUT, 0);
	if (!rsp) {
		rc = ota_error(OTA_EINPUT, "--tsa %s: no timestamp reply: %s",
			       url, ssl_reason());
		goto out;
	}
	*reply = malloc(OTA_TSA_MAX_REPLY);
	if (!*reply) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	for (;;) {
		int n = BIO_read(rsp, *reply + *len,
				 (int)(OTA_TSA_MAX_REPLY - *len));

		if (n <= 0)
			break;
		*len += (size_t)n;
		if (*len == OTA_TSA_MAX_REPLY)
			break;
	}
	if (*len == 0 || *len == OTA_TSA_MAX_REPLY) {
		rc = ota_error(OTA_EINPUT, "--tsa %s: the reply is %s", url,
			       *len ? "too long" : "empty");
		free(*reply);
		*reply = NULL;
		*len = 0;
	}
out:
	BIO_free(req);
	BIO_free(rsp);
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	return rc;
}

/* A store of anchors, or, without them, of the token's own certificates. */
static X509_STORE *store_of(STACK_OF(X509) * certs)
{
	X509_STORE *st = X509_STORE_new();

	if (!st)
		return NULL;
	for (int i = 0; i < sk_X509_num(certs); i++)
		if (!X509_STORE_add_cert(st, sk_X509_value(certs, i))) {
			X509_STORE_free(st);
			return NULL;
		}
	return st;
}

/* The token's certificates (certReq), borrowed. */
static STACK_OF(X509) * token_certs(PKCS7 *token)
{
	if (!PKCS7_type_is_signed(token) || !token->d.sign)
		return NULL;
	return token->d.sign->cert;
}

/* genTime, serial and the signer's subject of a verified token. */
static int token_info(struct ota_tsa_info *info, PKCS7 *token, TS_TST_INFO *tst)
{
	const ASN1_GENERALIZEDTIME *gt = TS_TST_INFO_get_time(tst);
	const ASN1_INTEGER *serial = TS_TST_INFO_get_serial(tst);
	STACK_OF(X509) *signers = PKCS7_get0_signers(token, NULL, 0);
	ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
	BIGNUM *bn = serial ? ASN1_INTEGER_to_BN(serial, NULL) : NULL;
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	int days = 0, secs = 0, rc = 0;

	memset(info, 0, sizeof(*info));
	if (!gt || !epoch || !ASN1_TIME_diff(&days, &secs, epoch, gt))
		rc = ota_error(OTA_EVERIFY, "the timestamp's time is invalid");
	else
		info->gen_time = (int64_t)days * 86400 + secs;
	snprintf(info->serial, sizeof(info->serial), "%s", hex ? hex : "?");
	if (signers && sk_X509_num(signers) > 0)
		ota_chain_subject(info->tsa, sizeof(info->tsa),
				  sk_X509_value(signers, 0));
	OPENSSL_free(hex);
	BN_free(bn);
	ASN1_TIME_free(epoch);
	sk_X509_free(signers);
	ERR_clear_error();
	return rc;
}

/* The imprint must be SHA-256 (the format says so: no weaker hash). */
static int imprint_is_sha256(TS_TST_INFO *tst)
{
	TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(tst);
	X509_ALGOR *a = mi ? TS_MSG_IMPRINT_get_algo(mi) : NULL;
	const ASN1_OBJECT *obj = NULL;

	if (!a)
		return 0;
	X509_ALGOR_get0(&obj, NULL, NULL, a);
	return obj && OBJ_obj2nid(obj) == NID_sha256;
}

/*
 * Checks token over sig with ctx's other checks (nonce, from a query):
 * first self-anchored (a genuine TSA token over these bytes), then, with
 * anchors, the TSA's chain.
 */
static int check_token(struct ota_tsa_info *info, PKCS7 *token,
		       TS_VERIFY_CTX *ctx, const uint8_t *sig, size_t siglen,
		       const struct ota_cert_list *anchors)
{
	STACK_OF(X509) *certs = token_certs(token);
	TS_TST_INFO *tst = NULL;
	X509_STORE *st = NULL;
	BIO *data = NULL;
	int rc;

	if (!certs || sk_X509_num(certs) == 0)
		return ota_error(OTA_EVERIFY,
				 "the timestamp carries no TSA certificate");
	if (!(tst = PKCS7_to_TS_TST_INFO(token))) {
		rc = ota_error(OTA_EVERIFY, "the timestamp is malformed: %s",
			       ssl_reason());
		goto out;
	}
	if (!imprint_is_sha256(tst)) {
		rc = ota_error(OTA_EVERIFY,
			       "the timestamp's imprint is not SHA-256");
		goto out;
	}
	if (!(st = store_of(certs)) ||
	    !(data = BIO_new_mem_buf(sig, (int)siglen))) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
	TS_VERIFY_CTX_set_store(ctx, st);
	st = NULL;
	TS_VERIFY_CTX_set_data(ctx, data);
	data = NULL;
	TS_VERIFY_CTX_add_flags(ctx, TS_VFY_SIGNATURE | TS_VFY_VERSION |
					 TS_VFY_DATA);
	if (TS_RESP_verify_token(ctx, token) != 1) {
		rc = ota_error(OTA_EVERIFY,
			       "the timestamp does not verify over this "
			       "signature: %s",
			       ssl_reason());
		goto out;
	}
	if ((rc = token_info(info, token, tst)))
		goto out;
	if (anchors) {
		X509 *signer = NULL;

		if (!(st = store_of(ota_cert_list_stack(anchors)))) {
			rc = ota_error(OTA_EINTERNAL, "out of memory");
			goto out;
		}
		if (TS_RESP_verify_signature(token, NULL, st, &signer) != 1) {
			rc = ota_error(OTA_EUNTRUSTED,
				       "the timestamp's TSA \"%s\" is not "
				       "trusted by --tsa-trust: %s",
				       info->tsa, ssl_reason());
			goto out;
		}
		X509_free(signer);
	}
	rc = 0;
out:
	X509_STORE_free(st);
	BIO_free(data);
	TS_TST_INFO_free(tst);
	return rc;
}

int ota_tsa_token_check(struct ota_tsa_info *info, const uint8_t *token,
			size_t token_len, const uint8_t *sig, size_t siglen,
			const struct ota_cert_list *anchors)
{
	const unsigned char *p = token;
	PKCS7 *p7 = NULL;
	TS_VERIFY_CTX *ctx = NULL;
	int rc;

	if (token_len > OTA_TSA_MAX_REPLY ||
	    !(p7 = d2i_PKCS7(NULL, &p, (long)token_len)) ||
	    p != token + token_len) {
		rc = ota_error(OTA_EVERIFY, "the timestamp token is not DER "
					    "(a TimeStampToken)");
		ERR_clear_error();
		goto out;
	}
	if (!(ctx = TS_VERIFY_CTX_new())) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	rc = check_token(info, p7, ctx, sig, siglen, anchors);
out:
	TS_VERIFY_CTX_free(ctx);
	PKCS7_free(p7);
	return rc;
}

int ota_tsa_reply_check(uint8_t **token, size_t *token_len,
			struct ota_tsa_info *info, const uint8_t *reply,
			size_t reply_len, const uint8_t *query,
			size_t query_len, const uint8_t *sig, size_t siglen,
			const struct ota_cert_list *anchors)
{
	const unsigned char *p = reply;
	TS_RESP *resp = NULL;
	TS_REQ *req = NULL;
	TS_VERIFY_CTX *ctx = NULL;
	TS_STATUS_INFO *si;
	unsigned char *out = NULL;
	int n, rc;

	*token = NULL;
	*token_len = 0;
	if (reply_len > OTA_TSA_MAX_REPLY ||
	    !(resp = d2i_TS_RESP(NULL, &p, (long)reply_len)) ||
	    p != reply + reply_len) {
		ERR_clear_error();
		rc = ota_error(OTA_EVERIFY,
			       "the TSA's reply is not a DER TimeStampResp");
		goto out;
	}
	si = TS_RESP_get_status_info(resp);
	n = (int)ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
	if (n != TS_STATUS_GRANTED && n != TS_STATUS_GRANTED_WITH_MODS) {
		rc =
		    ota_error(OTA_EVERIFY, "the TSA refused: status %d (%s)", n,
			      n == TS_STATUS_REJECTION ? "rejection"
			      : n == TS_STATUS_WAITING ? "waiting"
						       : "not granted");
		goto out;
	}
	if (!TS_RESP_get_token(resp)) {
		rc = ota_error(OTA_EVERIFY, "the TSA's reply has no token");
		goto out;
	}
	if (query) {
		p = query;
		if (!(req = d2i_TS_REQ(NULL, &p, (long)query_len))) {
			ERR_clear_error();
			rc = ota_error(OTA_EINPUT,
				       "the timestamp query is not DER");
			goto out;
		}
		/* nonce and imprint of the query; the data is checked too */
		ctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL);
		if (ctx)
			TS_VERIFY_CTX_set_flags(ctx,
						TS_VFY_NONCE | TS_VFY_IMPRINT);
	} else {
		ctx = TS_VERIFY_CTX_new();
	}
	if (!ctx) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = check_token(info, TS_RESP_get_token(resp), ctx, sig, siglen,
			      anchors)))
		goto out;
	n = i2d_PKCS7(TS_RESP_get_token(resp), &out);
	if (n <= 0 || !(*token = malloc((size_t)n))) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	memcpy(*token, out, (size_t)n);
	*token_len = (size_t)n;
out:
	OPENSSL_free(out);
	TS_VERIFY_CTX_free(ctx);
	TS_REQ_free(req);
	TS_RESP_free(resp);
	return rc;
}

bool ota_tsa_token_matches(const uint8_t *token, size_t token_len,
			   const uint8_t *sig, size_t siglen)
{
	const unsigned char *p = token;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)token_len);
	TS_TST_INFO *tst = p7 ? PKCS7_to_TS_TST_INFO(p7) : NULL;
	TS_MSG_IMPRINT *mi = tst ? TS_TST_INFO_get_msg_imprint(tst) : NULL;
	ASN1_OCTET_STRING *m = mi ? TS_MSG_IMPRINT_get_msg(mi) : NULL;
	uint8_t d[32];
	bool ok = false;

	if (m && imprint_is_sha256(tst) && ASN1_STRING_length(m) == 32 &&
	    EVP_Digest(sig, siglen, d, NULL, EVP_sha256(), NULL) == 1)
		ok = memcmp(ASN1_STRING_get0_data(m), d, 32) == 0;
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	ERR_clear_error();
	return ok;
}

bool ota_tsa_reply_matches(const uint8_t *reply, size_t reply_len,
			   const uint8_t *sig, size_t siglen)
{
	const unsigned char *p = reply;
	TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)reply_len);
	unsigned char *der = NULL;
	int n = resp && TS_RESP_get_token(resp)
		    ? i2d_PKCS7(TS_RESP_get_token(resp), &der)
		    : 0;
	bool ok = n > 0 && ota_tsa_token_matches(der, (size_t)n, sig, siglen);

	OPENSSL_free(der);
	TS_RESP_free(resp);
	ERR_clear_error();
	return ok;
}
