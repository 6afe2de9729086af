/*
 * Internal to the library: certificate chains at the level of OpenSSL's
 * X509 (chain.c), for the trust and signer modules and the chain tests.
 * The check is OpenSSL's X509_verify_cert with strict flags, plus
 * otatool's code-signing policy.
 */
#ifndef OTATOOL_CHAIN_PRIV_H
#define OTATOOL_CHAIN_PRIV_H

#include "otatool/chain.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct ota_cert_list {
	STACK_OF(X509) * certs;
};

struct ota_crl_list {
	STACK_OF(X509_CRL) * crls;
};

/* The stacks inside, borrowed; NULL for a NULL list. */
STACK_OF(X509) * ota_cert_list_stack(const struct ota_cert_list *list);
STACK_OF(X509_CRL) * ota_crl_list_stack(const struct ota_crl_list *list);

/* ota_chain_read_trust() and ota_chain_read_crls() into lists. */
int ota_cert_list_read_trust(struct ota_cert_list **list, const char *path);
int ota_crl_list_read(struct ota_crl_list **list, const char *path);
void ota_crl_list_free(struct ota_crl_list *list); /* accepts NULL */

/* ota_cert_list_read() on a stack (created when NULL). */
int ota_chain_read_certs(STACK_OF(X509) * *certs, const char *path);

/* Parses one DER certificate from memory (embedded in a signature). */
int ota_chain_cert_from_der(X509 **out, const uint8_t *der, size_t len,
			    const char *what);

/* A certificate's subject in one line (RFC 2253, printable ASCII). */
void ota_chain_subject(char *buf, size_t size, X509 *cert);

/*
 * Reads CRLs (PEM, possibly several, or one DER) and appends them to
 * *crls. OTA_EINPUT naming the file otherwise.
 */
int ota_chain_read_crls(STACK_OF(X509_CRL) * *crls, const char *path);

/*
 * Trust anchors from a PEM bundle, a DER file, or a directory (every *.pem,
 * *.crt, *.cer and *.der file in it, not recursive) appended to *anchors.
 */
int ota_chain_read_trust(STACK_OF(X509) * *anchors, const char *path);

struct ota_chain_input {
	X509 *signer;                   /* the leaf: the signing certificate */
	STACK_OF(X509) * intermediates; /* untrusted, any order; may be NULL */
	STACK_OF(X509) * anchors;       /* trusted roots (self-signed or not) */
	STACK_OF(X509_CRL) * crls;      /* may be NULL */
	bool crl_required; /* every non-root certificate needs its issuer's
			      CRL: a missing one is a refusal */
	int64_t at;        /* check time, seconds since the epoch */
	/*
	 * Algorithm policy: by default no MD5 or SHA-1 signatures, RSA keys
	 * of at least 2048 bits, EC keys only on P-256, P-384 or P-521.
	 * allow_weak lifts all three (otatool chain --allow-weak-crypto).
	 */
	bool allow_weak;
	EVP_PKEY *signing_key; /* when set, must be the signer's key */
};

/*
 * Builds and checks the chain. Returns 0 when it is trusted; OTA_EUNTRUSTED
 * with report->reason, fail_depth and message set (and the same message
 * recorded as the error) when it is refused; another negative code for a
 * failure to check at all. The report is filled in both cases.
 */
int ota_chain_check(struct ota_chain_report *report,
		    const struct ota_chain_input *in);

#endif
