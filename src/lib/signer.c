/* Opening and checking the signers of a command: keys, certificates, token. */
#include "otatool/signer.h"
#include "chain_priv.h"

#include "otatool/chain.h"
#include "otatool/error.h"
#include "otatool/pkcs11.h"
#include "otatool/trust.h"

#include <openssl/x509.h>
#include <stdlib.h>
#include <unistd.h>

struct ota_signers {
	struct ota_pkcs11 *p11;
	struct ota_key *keys[OTA_SIGNERS_MAX];
	size_t n;
	bool borrowed; /* ota_signers_wrap(): the keys are the caller's */
};

bool ota_signers_can_prompt(void)
{
	/* A prompt needs a person: CI and pipes get an error, not a hang. */
	return isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
}

int ota_signers_pkcs11(struct ota_pkcs11 **out, const char *module)
{
	struct ota_pkcs11_opts o = {
		.module = module ? module : getenv("OTATOOL_PKCS11_MODULE"),
		.allow_prompt = ota_signers_can_prompt(),
		.uri_from_argv = true,
	};

	return ota_pkcs11_new(out, &o);
}

/* Intermediates of one key: every certificate of a PEM bundle, in order. */
static int add_chain(struct ota_key *key, const char *path)
{
	STACK_OF(X509) *certs = NULL;
	int rc = ota_chain_read_certs(&certs, path);

	for (int i = 0; rc == 0 && i < sk_X509_num(certs); i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(sk_X509_value(certs, i), &der);

		rc = len > 0
			 ? ota_key_add_chain_der(key, der, (size_t)len)
			 : ota_error(OTA_EINPUT, "%s: bad certificate", path);
		OPENSSL_free(der);
	}
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

int ota_signers_open(struct ota_signers **out, const struct ota_signers_opts *o)
{
	struct ota_key_opts kopts = {
		.passphrase_file = o->passphrase_file,
		.allow_prompt = ota_signers_can_prompt(),
		.rsa_pkcs1 = o->rsa_pkcs1,
	};
	struct ota_signers *s;
	bool need_p11 = false;
	int rc = 0;

	*out = NULL;
	if (o->n_keys > OTA_SIGNERS_MAX)
		return ota_error(OTA_EUSAGE, "at most %d --key",
				 OTA_SIGNERS_MAX);
	if (o->n_certs > o->n_keys)
		return ota_error(OTA_EUSAGE, "more --cert than --key");
	if (o->n_chains > o->n_certs)
		return ota_error(OTA_EUSAGE,
				 "--chain goes with a --cert (the n-th chain "
				 "belongs to the n-th certificate)");
	if (!(s = calloc(1, sizeof(*s))))
		return ota_error(OTA_EINTERNAL, "out of memory");
	for (size_t i = 0; i < o->n_keys; i++)
		need_p11 |= ota_pkcs11_is_uri(o->keys[i]);
	/* One context: one module load, one session and login per token. */
	if (need_p11 && (rc = ota_signers_pkcs11(&s->p11, o->pkcs11_module)))
		goto fail;
	kopts.pkcs11 = s->p11;
	for (size_t i = 0; i < o->n_keys; i++) {
		struct ota_key **k = &s->keys[i];

		rc = o->public_only ? ota_key_open_public(k, o->keys[i], &kopts,
							  o->forced_alg)
				    : ota_key_open(k, o->keys[i], &kopts);
		if (rc)
			goto fail;
		s->n++;
		if (i < o->n_certs &&
		    (rc = ota_key_set_certificate(*k, o->certs[i])))
			goto fail;
		if (i < o->n_chains && (rc = add_chain(*k, o->chains[i])))
			goto fail;
	}
	*out = s;
	return 0;
fail:
	ota_signers_free(s);
	return rc;
}

int ota_signers_wrap(struct ota_signers **out, struct ota_key *const *keys,
		     size_t n)
{
	struct ota_signers *s;

	*out = NULL;
	if (n > OTA_SIGNERS_MAX)
		return ota_error(OTA_EUSAGE, "at most %d signers",
				 OTA_SIGNERS_MAX);
	if (!(s = calloc(1, sizeof(*s))))
		return ota_error(OTA_EINTERNAL, "out of memory");
	for (size_t i = 0; i < n; i++)
		s->keys[i] = keys[i];
	s->n = n;
	s->borrowed = true;
	*out = s;
	return 0;
}

void ota_signers_free(struct ota_signers *s)
{
	if (!s)
		return;
	if (!s->borrowed)
		for (size_t i = 0; i < s->n; i++)
			ota_key_free(s->keys[i]);
	/* After the keys: a token key's session belongs to the context. */
	ota_pkcs11_free(s->p11);
	free(s);
}

size_t ota_signers_count(const struct ota_signers *s)
{
	return s ? s->n : 0;
}

struct ota_key *ota_signers_key(const struct ota_signers *s, size_t i)
{
	return s && i < s->n ? s->keys[i] : NULL;
}

int ota_signers_check_chains(const struct ota_signers *s,
			     const struct ota_trust *t, int64_t at)
{
	struct ota_chain_report report;
	size_t checked = 0;

	if (!ota_trust_has_anchors(t))
		return 0;
	/*
	 * Keys without a certificate (an old key during rotation, trusted by
	 * key id on devices) have no chain to check; at least one key must.
	 */
	for (size_t i = 0; i < s->n; i++) {
		const uint8_t *const *der;
		const size_t *lens;
		int rc;

		if (ota_key_certs(s->keys[i], &der, &lens) == 0)
			continue;
		if ((rc = ota_trust_check_signer(&report, t, s->keys[i], at)))
			return rc;
		checked++;
	}
	if (checked == 0)
		return ota_error(OTA_EUSAGE,
				 "--trust checks the signers' chains, but no "
				 "--key has a certificate (--cert)");
	return 0;
}

int ota_signers_trust(struct ota_trust *t, const struct ota_signers *s)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->n; i++)
		rc = ota_trust_add_public_key(t, ota_key_public(s->keys[i]),
					      ota_key_ref(s->keys[i]));
	return rc;
}
