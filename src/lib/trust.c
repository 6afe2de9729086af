/* Judging one signature against trusted keys or trust anchors. */
#include "otatool/trust.h"
#include "chain_priv.h"
#include "key_priv.h"
#include "otatool/error.h"
#include "otatool/timestamp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ota_trust_init(struct ota_trust *t)
{
	memset(t, 0, sizeof(*t));
}

void ota_trust_clear(struct ota_trust *t)
{
	for (size_t i = 0; i < t->n_keys; i++) {
		ota_public_key_free(t->keys[i]);
		free(t->key_names[i]);
	}
	ota_cert_list_free(t->anchors);
	ota_cert_list_free(t->tsa_anchors);
	ota_crl_list_free(t->crls);
	memset(t, 0, sizeof(*t));
}

bool ota_trust_empty(const struct ota_trust *t)
{
	return t->n_keys == 0 && !ota_trust_has_anchors(t);
}

bool ota_trust_has_anchors(const struct ota_trust *t)
{
	return ota_cert_list_count(t->anchors) > 0;
}

/* Takes k (freed here on failure); name is copied. */
static int add_key(struct ota_trust *t, struct ota_public_key *k,
		   const char *name)
{
	if (!(t->key_names[t->n_keys] = strdup(name))) {
		ota_public_key_free(k);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	t->keys[t->n_keys++] = k;
	return 0;
}

int ota_trust_add_key(struct ota_trust *t, const char *path)
{
	struct ota_public_key *k = NULL;
	int rc;

	if (t->n_keys == OTA_TRUST_MAX_KEYS)
		return ota_error(OTA_EUSAGE, "more than %d trusted keys",
				 OTA_TRUST_MAX_KEYS);
	if ((rc = ota_public_key_load(&k, path)))
		return rc;
	return add_key(t, k, path);
}

int ota_trust_add_public_key(struct ota_trust *t,
			     const struct ota_public_key *k, const char *name)
{
	struct ota_public_key *copy = NULL;
	int rc;

	if (t->n_keys == OTA_TRUST_MAX_KEYS)
		return ota_error(OTA_EUSAGE, "more than %d trusted keys",
				 OTA_TRUST_MAX_KEYS);
	if ((rc = ota_public_key_from_pkey(&copy, k->pkey)))
		return rc;
	return add_key(t, copy, name);
}

int ota_trust_add_anchors(struct ota_trust *t, const char *path)
{
	return ota_cert_list_read_trust(&t->anchors, path);
}

int ota_trust_add_crls(struct ota_trust *t, const char *path)
{
	return ota_crl_list_read(&t->crls, path);
}

int ota_trust_add_tsa_anchors(struct ota_trust *t, const char *path)
{
	return ota_cert_list_read_trust(&t->tsa_anchors, path);
}

const char *ota_trust_verdict_name(enum ota_trust_verdict v)
{
	switch (v) {
	case OTA_TRUST_VALID:
		return "valid";
	case OTA_TRUST_UNKNOWN:
		return "untrusted-key";
	case OTA_TRUST_CHAIN_FAIL:
		return "untrusted-chain";
	case OTA_TRUST_REVOKED:
		return "revoked-key";
	default:
		return "bad-signature";
	}
}

static int check_sig(EVP_PKEY *pub, const struct ota_trust_sig *s)
{
	return s->digest ? ota_signature_verify_digest(pub, s->alg, s->digest,
						       s->sig, s->siglen)
			 : ota_signature_verify(pub, s->alg, s->msg, s->msglen,
						s->sig, s->siglen);
}

/*
 * The chain input for embedded DER certificates (signer first): owns a
 * new signer and intermediates stack, freed by chain_input_free(), and
 * the trust's anchors, CRLs and policy, checked at `at` unless the trust
 * fixes a time.
 */
static int chain_input(struct ota_chain_input *in, const struct ota_trust *t,
		       const uint8_t *const *der, const size_t *lens, size_t n,
		       int64_t at)
{
	int rc;

	memset(in, 0, sizeof(*in));
	if (!(in->intermediates = sk_X509_new_null()))
		return ota_error(OTA_EINTERNAL, "out of memory");
	if ((rc = ota_chain_cert_from_der(&in->signer, der[0], lens[0],
					  "signer certificate")))
		return rc;
	for (size_t i = 1; i < n; i++) {
		X509 *c = NULL;

		if ((rc = ota_chain_cert_from_der(&c, der[i], lens[i],
						  "intermediate certificate")))
			return rc;
		if (!sk_X509_push(in->intermediates, c)) {
			X509_free(c);
			return ota_error(OTA_EINTERNAL, "out of memory");
		}
	}
	in->anchors = ota_cert_list_stack(t->anchors);
	in->crls = ota_crl_list_stack(t->crls);
	in->crl_required = t->crl_required;
	in->allow_weak = t->allow_weak;
	in->at = t->has_at ? t->at : at;
	return 0;
}

static void chain_input_free(struct ota_chain_input *in)
{
	X509_free(in->signer);
	sk_X509_pop_free(in->intermediates, X509_free);
}

/* A verdict with its reason, for the chain path. */
static int verdict(struct ota_trust_result *res, enum ota_trust_verdict v,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int verdict(struct ota_trust_result *res, enum ota_trust_verdict v,
		   const char *fmt, ...)
{
	va_list ap;

	res->verdict = v;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	return 0;
}

/*
 * The time a verified signature is judged at: its timestamp's, when the
 * trust checks timestamps and the token is valid. Returns 1 when res holds
 * a refusal, 0 to go on, a negative code when it could not judge.
 */
static int judge_time(struct ota_trust_result *res, const struct ota_trust *t,
		      const struct ota_trust_sig *s, int64_t *when)
{
	int rc;

	*when = s->when;
	if (!s->timestamp && t->require_timestamp) {
		verdict(res, OTA_TRUST_CHAIN_FAIL,
			"the signature has no timestamp, and one is required "
			"(--require-timestamp)");
		return 1;
	}
	if (!s->timestamp)
		return 0;
	if (ota_cert_list_count(t->tsa_anchors) == 0) {
		res->timestamp_unchecked = true;
		return 0;
	}
	rc =
	    ota_tsa_token_check(&res->timestamp, s->timestamp, s->timestamp_len,
				s->sig, s->siglen, t->tsa_anchors);
	if (rc == OTA_EVERIFY || rc == OTA_EUNTRUSTED) {
		verdict(res,
			rc == OTA_EVERIFY ? OTA_TRUST_BAD_SIG
					  : OTA_TRUST_CHAIN_FAIL,
			"timestamp: %s", ota_error_message());
		return 1;
	}
	if (rc)
		return rc;
	res->timestamped = true;
	*when = res->timestamp.gen_time;
	return 0;
}

/* ", timestamped at T by \"TSA\"" for a verdict's message, or "". */
static void time_note(char *buf, size_t size,
		      const struct ota_trust_result *res)
{
	char t[OTA_TIMESTAMP_LEN];

	buf[0] = '\0';
	if (res->timestamped &&
	    ota_timestamp_format(t, res->timestamp.gen_time) == 0)
		snprintf(buf, size, ", timestamped %s by \"%s\"", t,
			 res->timestamp.tsa);
	else if (res->timestamp_unchecked)
		snprintf(buf, size, ", timestamp not checked (no --tsa-trust)");
}

/*
 * The chain path: the signature with the signer certificate's key first,
 * then the chain from that certificate through the intermediates to an
 * anchor, at the time the signed data gives.
 */
static int judge_chain(struct ota_trust_result *res, const struct ota_trust *t,
		       const struct ota_trust_sig *s)
{
	struct ota_chain_input in;
	EVP_PKEY *pub;
	char id[OTA_KEY_ID_LEN + 1], subject[256], note[400];
	int64_t when = s->when;
	int rc;

	rc = chain_input(&in, t, s->certs, s->cert_lens, s->n_certs, s->when);
	if (rc == OTA_EINPUT) {
		rc = verdict(res, OTA_TRUST_CHAIN_FAIL, "%s",
			     ota_error_message());
		goto out;
	}
	if (rc)
		goto out;
	pub = X509_get0_pubkey(in.signer);
	if (!pub || ota_key_id_of(id, pub) || strcmp(id, s->keyid) != 0) {
		rc = verdict(res, OTA_TRUST_CHAIN_FAIL,
			     "the embedded signer certificate does not hold "
			     "key %.16s...",
			     s->keyid);
		goto out;
	}
	ota_chain_subject(subject, sizeof(subject), in.signer);
	if (check_sig(pub, s)) {
		rc = verdict(res, OTA_TRUST_BAD_SIG,
			     "%s signature by the certificate \"%s\" does not "
			     "verify",
			     ota_sig_alg_name(s->alg), subject);
		goto out;
	}
	if ((rc = judge_time(res, t, s, &when)) != 0) {
		rc = rc > 0 ? 0 : rc;
		goto out;
	}
	in.at = t->has_at ? t->at : when;
	if (s->when_error && !t->has_at && !res->timestamped) {
		rc = verdict(res, OTA_TRUST_CHAIN_FAIL,
			     "the chain of \"%s\" cannot be checked: %s",
			     subject, s->when_error);
		goto out;
	}
	res->has_chain = true;
	rc = ota_chain_check(&res->chain, &in);
	if (rc == OTA_EUNTRUSTED) {
		rc = verdict(res, OTA_TRUST_CHAIN_FAIL, "%s",
			     res->chain.message);
		goto out;
	}
	if (rc)
		goto out;
	time_note(note, sizeof(note), res);
	verdict(res, OTA_TRUST_VALID,
		"%s signature by \"%s\", chain to \"%s\" trusted%s",
		ota_sig_alg_name(s->alg), res->chain.certs[0].subject,
		res->chain.certs[res->chain.n_certs - 1].subject, note);
out:
	chain_input_free(&in);
	return rc;
}

int ota_trust_judge(struct ota_trust_result *res, const struct ota_trust *t,
		    const struct ota_trust_sig *s)
{
	memset(res, 0, sizeof(*res));
	res->key_index = -1;
	res->verdict = OTA_TRUST_UNKNOWN;
	/* A revoked key is refused before anything else can trust it. */
	if (ota_trust_is_revoked(t, s->keyid)) {
		res->verdict = OTA_TRUST_REVOKED;
		snprintf(res->message, sizeof(res->message),
			 "key %.16s... is revoked by the root record",
			 s->keyid);
		return 0;
	}
	/* A raw trusted key wins: it needs no certificate at all. */
	for (size_t i = 0; i < t->n_keys; i++) {
		if (strcmp(t->keys[i]->id, s->keyid) != 0)
			continue;
		res->key_index = (int)i;
		if (check_sig(t->keys[i]->pkey, s)) {
			res->verdict = OTA_TRUST_BAD_SIG;
			snprintf(res->message, sizeof(res->message),
				 "%s signature by trusted key %s does not "
				 "verify",
				 ota_sig_alg_name(s->alg), t->key_names[i]);
		} else {
			char note[400];
			int64_t when;
			int rc = judge_time(res, t, s, &when);

			if (rc)
				return rc > 0 ? 0 : rc;
			time_note(note, sizeof(note), res);
			res->verdict = OTA_TRUST_VALID;
			snprintf(res->message, sizeof(res->message),
				 "%s signature by trusted key %s%s",
				 ota_sig_alg_name(s->alg), t->key_names[i],
				 note);
		}
		return 0;
	}
	if (ota_trust_has_anchors(t) && s->n_certs > 0)
		return judge_chain(res, t, s);
	snprintf(res->message, sizeof(res->message),
		 "key %.16s... is not trusted%s", s->keyid,
		 ota_trust_has_anchors(t)
		     ? " and the signature carries no certificate"
		     : "");
	return 0;
}

int ota_trust_check_signer(struct ota_chain_report *report,
			   const struct ota_trust *t, const struct ota_key *k,
			   int64_t at)
{
	struct ota_chain_input in;
	const uint8_t *const *der;
	const size_t *lens;
	size_t n = ota_key_certs(k, &der, &lens);
	int rc;

	if (n == 0)
		return ota_error(OTA_EUSAGE,
				 "%s: --trust checks the signer's chain: give "
				 "its certificate with --cert",
				 ota_key_ref(k));
	if ((rc = chain_input(&in, t, der, lens, n, at)))
		goto out;
	in.signing_key = ota_key_pkey(k);
	rc = ota_chain_check(report, &in);
	if (rc == OTA_EUNTRUSTED)
		rc = ota_error(OTA_EUNTRUSTED,
			       "%s: refusing to sign: the chain would not "
			       "verify: %s",
			       ota_key_ref(k), report->message);
out:
	chain_input_free(&in);
	return rc;
}

int ota_trust_check_cert(struct ota_chain_report *report,
			 const struct ota_trust *t,
			 const struct ota_cert_list *signer,
			 const struct ota_cert_list *intermediates,
			 const struct ota_public_key *key, int64_t at)
{
	struct ota_chain_input in = {
		.intermediates = ota_cert_list_stack(intermediates),
		.anchors = ota_cert_list_stack(t->anchors),
		.crls = ota_crl_list_stack(t->crls),
		.crl_required = t->crl_required,
		.allow_weak = t->allow_weak,
		.at = at,
		.signing_key = key ? key->pkey : NULL,
	};

	if (ota_cert_list_count(signer) == 0)
		return ota_error(OTA_EUSAGE, "no signer certificate to check");
	in.signer = sk_X509_value(ota_cert_list_stack(signer), 0);
	return ota_chain_check(report, &in);
}

int ota_trust_add_revoked(struct ota_trust *t, const char *keyid)
{
	if (ota_trust_is_revoked(t, keyid))
		return 0;
	if (t->n_revoked == OTA_TRUST_MAX_REVOKED)
		return ota_error(OTA_EUSAGE, "more than %d revoked keys",
				 OTA_TRUST_MAX_REVOKED);
	snprintf(t->revoked[t->n_revoked++], OTA_KEY_ID_LEN + 1, "%s", keyid);
	return 0;
}

bool ota_trust_is_revoked(const struct ota_trust *t, const char *keyid)
{
	for (size_t i = 0; i < t->n_revoked; i++)
		if (strcmp(t->revoked[i], keyid) == 0)
			return true;
	return false;
}

bool ota_trust_threshold_met(const struct ota_trust *t,
			     const struct ota_trust_result *const *results,
			     const char *const *keyids, size_t n,
			     unsigned *distinct)
{
	unsigned count = 0;

	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		if (!results[i] || results[i]->verdict != OTA_TRUST_VALID)
			continue;
		/* the same key signing twice counts once */
		for (size_t j = 0; j < i && !seen; j++)
			seen = results[j] &&
			       results[j]->verdict == OTA_TRUST_VALID &&
			       strcmp(keyids[j], keyids[i]) == 0;
		if (!seen)
			count++;
	}
	if (distinct)
		*distinct = count;
	return count >= (t->threshold ? t->threshold : 1u);
}
