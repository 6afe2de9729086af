/*
 * RFC 3161 timestamps over signatures: the query a time-stamping authority
 * (TSA) answers, the HTTP exchange with it, the checks of its reply before
 * a token is kept, and the checks of a kept token when a signature is
 * judged (trust.c). Tokens are DER TimeStampTokens over the SHA-256 of one
 * signature's bytes; where they are kept is the artifact's business
 * (otatool-package(5) UNPROTECTED REGION, otatool-signature(5)).
 */
#ifndef OTATOOL_TSA_H
#define OTATOOL_TSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ota_cert_list;

#define OTA_TSA_MAX_REPLY (256u << 10) /* a reply or token, in bytes */
#define OTA_TSA_TIMEOUT   30           /* seconds for one HTTP exchange */

/*
 * A TimeStampReq (version 1, SHA-256 of sig as the messageImprint, a
 * random 64-bit nonce, certReq true) as DER; *der is malloc'ed.
 */
int ota_tsa_request(uint8_t **der, size_t *len, const uint8_t *sig,
		    size_t siglen);

/*
 * POSTs the query to url (http://HOST[:PORT]/PATH; application/
 * timestamp-query, answered with application/timestamp-reply) and returns
 * the reply's DER in *reply (malloc'ed). OTA_EINPUT, naming the URL, for
 * a URL it cannot use or an exchange that fails.
 */
int ota_tsa_fetch(uint8_t **reply, size_t *len, const char *url,
		  const uint8_t *query, size_t query_len);

/* What a checked token says. */
struct ota_tsa_info {
	int64_t gen_time; /* seconds since the epoch */
	char tsa[256];    /* the TSA certificate's subject */
	char serial[80];  /* the token's serial number, hex */
};

/*
 * Checks a TimeStampResp before its token is kept: status granted, the
 * token's version, its imprint (SHA-256 of sig), the nonce of query when
 * query is given, and the TSA's signature with its certificate, which must
 * be in the token (certReq), carry the critical timeStamping extended key
 * usage and chain to anchors when given (else the certificate is taken as
 * its own anchor: the signature and the certificate's purpose are still
 * checked). *token (malloc'ed) is the TimeStampToken's DER. OTA_EVERIFY
 * (malformed, refused or not matching), OTA_EUNTRUSTED (the TSA's chain).
 */
int ota_tsa_reply_check(uint8_t **token, size_t *token_len,
			struct ota_tsa_info *info, const uint8_t *reply,
			size_t reply_len, const uint8_t *query,
			size_t query_len, const uint8_t *sig, size_t siglen,
			const struct ota_cert_list *anchors);

/*
 * Checks a kept token over sig: the TSA's signature, its certificate's
 * critical timeStamping usage and chain to anchors (at the current time),
 * version 1 and a SHA-256 imprint of sig. Returns 0 with info filled,
 * OTA_EVERIFY (malformed, forged or over other bytes) or OTA_EUNTRUSTED
 * (the TSA is not trusted), with the reason recorded.
 */
int ota_tsa_token_check(struct ota_tsa_info *info, const uint8_t *token,
			size_t token_len, const uint8_t *sig, size_t siglen,
			const struct ota_cert_list *anchors);

/* Whether sig is the signature the token's imprint names (SHA-256). */
bool ota_tsa_token_matches(const uint8_t *token, size_t token_len,
			   const uint8_t *sig, size_t siglen);
/* The same for the token of a TimeStampResp. */
bool ota_tsa_reply_matches(const uint8_t *reply, size_t reply_len,
			   const uint8_t *sig, size_t siglen);

#ifdef __cplusplus
}
#endif
#endif
