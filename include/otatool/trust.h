/*
 * What a verifier trusts and how one signature is judged against it: a
 * raw public key (--trust-key: devices with a key hash in ROM) or a chain
 * from the signature's embedded certificates to a trust anchor (--trust),
 * checked with the same code as `otatool chain check`.
 */
#ifndef OTATOOL_TRUST_H
#define OTATOOL_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otatool/chain.h"
#include "otatool/digest.h"
#include "otatool/key.h"
#include "otatool/tsa.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_TRUST_MAX_KEYS    16
#define OTA_TRUST_MAX_REVOKED 32

/*
 * Caller-owned (ota_trust_init, ota_trust_clear); the keys, anchors and
 * CRLs are added by the functions below, the policy fields set directly.
 */
struct ota_trust {
	struct ota_public_key *keys[OTA_TRUST_MAX_KEYS]; /* owned */
	char *key_names[OTA_TRUST_MAX_KEYS]; /* the file each came from */
	size_t n_keys;
	struct ota_cert_list *anchors; /* owned; NULL when no --trust */
	struct ota_crl_list *crls;     /* owned */
	bool crl_required, allow_weak;
	/*
	 * Check chains at this time; else at a package's signing time, or
	 * now for what records none (signed manifests, signing itself).
	 */
	bool has_at;
	int64_t at;
	/*
	 * --tsa-trust: the roots of the time-stamping authorities whose
	 * RFC 3161 tokens are believed; a signature with a valid token is
	 * then judged at the token's time. NULL: tokens are not checked
	 * (nor used). require_timestamp: a signature without a valid token
	 * is refused.
	 */
	struct ota_cert_list *tsa_anchors; /* owned */
	bool require_timestamp;
	/*
	 * How many distinct trusted keys must have signed (verify
	 * --threshold, a root record's release threshold); 0 means 1. A key
	 * that signed twice counts once.
	 */
	unsigned threshold;
	/* Key ids (hex) refused whatever else trusts them: root records. */
	size_t n_revoked;
	char revoked[OTA_TRUST_MAX_REVOKED][OTA_KEY_ID_LEN + 1];
};

void ota_trust_init(struct ota_trust *t);
void ota_trust_clear(struct ota_trust *t);
/* --trust-key FILE: a public key, certificate or private key file. */
int ota_trust_add_key(struct ota_trust *t, const char *path);
/* A key already in hand (the signer's own, say); a copy is kept. */
int ota_trust_add_public_key(struct ota_trust *t,
			     const struct ota_public_key *k, const char *name);
/* --trust FILE|DIR, --crl FILE. */
int ota_trust_add_anchors(struct ota_trust *t, const char *path);
int ota_trust_add_crls(struct ota_trust *t, const char *path);
/* --tsa-trust FILE|DIR: TSA roots, as for --trust. */
int ota_trust_add_tsa_anchors(struct ota_trust *t, const char *path);
bool ota_trust_empty(const struct ota_trust *t);
/* Whether t has trust anchors (--trust): chains can be checked. */
bool ota_trust_has_anchors(const struct ota_trust *t);

enum ota_trust_verdict {
	OTA_TRUST_VALID,      /* by a trusted key or through a trusted chain */
	OTA_TRUST_UNKNOWN,    /* key not trusted, no chain to an anchor */
	OTA_TRUST_CHAIN_FAIL, /* a chain was given and refused */
	OTA_TRUST_BAD_SIG,    /* the key is trusted but the signature fails */
	OTA_TRUST_REVOKED,    /* the key id is revoked: never trusted */
};

struct ota_trust_result {
	enum ota_trust_verdict verdict;
	int key_index; /* index into keys, or -1 (chain) */
	bool has_chain;
	struct ota_chain_report chain;
	/* A timestamp token was checked and the chain judged at its time. */
	bool timestamped;
	struct ota_tsa_info timestamp;
	/* A token was there but not checked (no --tsa-trust). */
	bool timestamp_unchecked;
	char message[600]; /* one line: why */
};

/*
 * One signature to judge. keyid is hex; certs the embedded DER (signer
 * first), may be empty. Exactly one of msg (signed as a message, e.g. a
 * DSSE PAE) or digest (signed as a digest, e.g. a package region) is set.
 * when is the chain check time unless t->has_at; when_error, if set, says
 * why the signed data gives no usable time (a chain is then refused with
 * that message, once the signature verified).
 */
struct ota_trust_sig {
	const char *keyid;
	enum ota_sig_alg alg;
	const uint8_t *sig;
	size_t siglen;
	size_t n_certs;
	const uint8_t *const *certs;
	const size_t *cert_lens;
	const uint8_t *msg;
	size_t msglen;
	const struct ota_digest *digest;
	int64_t when;
	const char *when_error;
	/* An RFC 3161 token over sig (DER), or NULL. */
	const uint8_t *timestamp;
	size_t timestamp_len;
};

/*
 * Fills res. Returns 0 (even when the verdict is not VALID: that is a
 * result, not a failure) or a negative code when it could not judge. On
 * the chain path the signature is checked first, with the embedded
 * signer certificate's key: until it verifies, nothing that was signed
 * (the signing time included) is the signer's word, so a forgery is
 * bad-signature, never a chain judged at a forged time. Embedded
 * certificates that cannot be read are a refused chain. With tsa_anchors,
 * a timestamp token is checked once the signature verified: forged or over
 * other bytes is bad-signature, a TSA not trusted (or no token when one is
 * required) a refused chain; a valid one's time is the chain's time
 * (unless t->has_at).
 */
int ota_trust_judge(struct ota_trust_result *res, const struct ota_trust *t,
		    const struct ota_trust_sig *s);

/*
 * Before signing: the key's certificates (ota_key_certs) must form a chain
 * to the trust's anchors at time at, and hold the key. OTA_EUNTRUSTED with
 * the chain report's reason otherwise; OTA_EUSAGE when the key has no
 * certificate to check.
 */
int ota_trust_check_signer(struct ota_chain_report *report,
			   const struct ota_trust *t, const struct ota_key *k,
			   int64_t at);

/*
 * otatool chain check: the chain from the first certificate of signer
 * through intermediates (may be NULL) to t's anchors, with t's CRLs and
 * policy, at time at. When key is set it must be the certificate's key.
 * Returns 0 when it is trusted; OTA_EUNTRUSTED with report->reason,
 * fail_depth and message set (the message also recorded as the error) when
 * it is refused; another negative code when it could not check (an empty
 * signer: OTA_EUSAGE). The report is filled in both cases.
 */
int ota_trust_check_cert(struct ota_chain_report *report,
			 const struct ota_trust *t,
			 const struct ota_cert_list *signer,
			 const struct ota_cert_list *intermediates,
			 const struct ota_public_key *key, int64_t at);

const char *ota_trust_verdict_name(enum ota_trust_verdict v);

/* Adds a revoked key id (hex); OTA_EUSAGE past OTA_TRUST_MAX_REVOKED. */
int ota_trust_add_revoked(struct ota_trust *t, const char *keyid);
bool ota_trust_is_revoked(const struct ota_trust *t, const char *keyid);

/*
 * Whether the signatures judged in results (n of them) meet t's threshold:
 * the number of distinct key ids with a VALID verdict, written to
 * *distinct, against t->threshold (0: 1).
 */
bool ota_trust_threshold_met(const struct ota_trust *t,
			     const struct ota_trust_result *const *results,
			     const char *const *keyids, size_t n,
			     unsigned *distinct);

#ifdef __cplusplus
}
#endif
#endif
