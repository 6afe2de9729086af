/*
 * Certificate chains checked the way a careful verifier does: OpenSSL's
 * X509_verify_cert with strict flags, plus otatool's code-signing policy,
 * with every refusal tied to the certificate that caused it.
 */
#ifndef OTATOOL_CHAIN_H
#define OTATOOL_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_CHAIN_MAX_DEPTH 8

/*
 * Reads every certificate of a PEM bundle, or one DER certificate, and
 * appends them to *certs (created when NULL). Garbage, a truncated PEM or
 * DER, or a file without any certificate is OTA_EINPUT naming the file and,
 * for bundles, which certificate (1-based) is bad.
 */
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

/*
 * Builds and checks the chain. Returns 0 when it is trusted; OTA_EUNTRUSTED
 * with report->reason, fail_depth and message set (and the same message
 * recorded as the error) when it is refused; another negative code for a
 * failure to check at all. The report is filled in both cases.
 */
int ota_chain_check(struct ota_chain_report *report,
		    const struct ota_chain_input *in);

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
