/*
 * Certificate chains checked the way a careful verifier does (strict
 * X.509 path validation plus otatool's code-signing policy), with every
 * refusal tied to the certificate that caused it. The checks themselves
 * are reached through trust.h; this is the report they give.
 */
#ifndef OTATOOL_CHAIN_H
#define OTATOOL_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_CHAIN_MAX_DEPTH 8

/*
 * X.509 certificates in the order read (a signer certificate, a bundle of
 * intermediates, trust anchors) and certificate revocation lists.
 */
struct ota_cert_list;
struct ota_crl_list;

/*
 * Reads every certificate of a PEM bundle, or one DER certificate, and
 * appends them to *list (created when NULL; the caller frees it even when
 * reading fails). Garbage, a truncated PEM or DER, or a file without any
 * certificate is OTA_EINPUT naming the file and, for bundles, which
 * certificate (1-based) is bad.
 */
int ota_cert_list_read(struct ota_cert_list **list, const char *path);
size_t ota_cert_list_count(const struct ota_cert_list *list); /* NULL: 0 */
void ota_cert_list_free(struct ota_cert_list *list);          /* accepts NULL */

/* Why a chain was refused; OTA_CHAIN_OK when it was not. */
enum ota_chain_reason {
	OTA_CHAIN_OK = 0,
	OTA_CHAIN_EXPIRED,              /* notAfter before the check time */
	OTA_CHAIN_NOT_YET_VALID,        /* notBefore after the check time */
	OTA_CHAIN_NO_CODE_SIGNING,      /* signer EKU lacks codeSigning, or an
					   intermediate's EKU excludes it */
	OTA_CHAIN_NO_DIGITAL_SIGNATURE, /* signer keyUsage */
	OTA_CHAIN_NOT_CA,               /* an issuer is not CA:TRUE */
	OTA_CHAIN_NO_KEY_CERT_SIGN, /* an issuer's keyUsage lacks keyCertSign */
	OTA_CHAIN_PATH_LENGTH,      /* pathLenConstraint exceeded */
	OTA_CHAIN_UNKNOWN_ISSUER,   /* no issuer found (missing intermediate,
				       name mismatch) */
	OTA_CHAIN_UNTRUSTED_ROOT,   /* chain ends at a root not in anchors */
	OTA_CHAIN_REVOKED,
	OTA_CHAIN_CRL_MISSING,    /* with crl_required */
	OTA_CHAIN_CRL_INVALID,    /* bad CRL signature or validity */
	OTA_CHAIN_WEAK_ALGORITHM, /* MD5/SHA-1 signature, small RSA, curve */
	OTA_CHAIN_SELF_SIGNED_LEAF,
	OTA_CHAIN_KEY_MISMATCH,  /* signing_key is not the signer's key */
	OTA_CHAIN_BAD_SIGNATURE, /* a certificate's signature is invalid */
	OTA_CHAIN_INVALID,       /* anything else OpenSSL refuses */
};

struct ota_chain_cert {
	char subject[256];
	char issuer[256];
	char serial[80];     /* hex */
	char not_before[21]; /* RFC 3339 UTC */
	char not_after[21];
	char key[32];         /* "EC P-256", "RSA 3072", "Ed25519" */
	char fingerprint[65]; /* SHA-256 of the DER, hex */
	bool trusted;         /* one of the anchors */
};

struct ota_chain_report {
	size_t n_certs; /* signer first, root last (as far as built) */
	struct ota_chain_cert certs[OTA_CHAIN_MAX_DEPTH + 2];
	enum ota_chain_reason reason;
	int fail_depth;    /* index into certs of the culprit, -1 if none */
	char message[512]; /* one line: what failed and on which certificate */
};

/* Stable lower-case name of a reason ("expired", "revoked", ...). */
const char *ota_chain_reason_name(enum ota_chain_reason r);

/*
 * The report as JSON text, {"trusted": bool, "reason": ...,
 * "certificates": [...]}, in the canonical form (2-space indent, final
 * newline). *out is malloc'ed. Records an error only when it fails.
 */
int ota_chain_report_to_json(char **out, size_t *len,
			     const struct ota_chain_report *report);

#ifdef __cplusplus
}
#endif
#endif
