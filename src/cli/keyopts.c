/* Parsing and opening the signing-key options shared by sign and package. */
#include "keyopts.h"

#include "cli.h"
#include "otatool/chain.h"
#include "otatool/error.h"
#include "otatool/trust.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cli_keys_option(struct cli_keys *k, const char *cmd, int c, const char *arg)
{
	switch (c) {
	case 'k':
		if (k->n == CLI_MAX_KEYS)
			return cli_usage_error(cmd, "at most %d --key",
					       CLI_MAX_KEYS);
		k->refs[k->n++] = arg;
		return 1;
	case CLI_OPT_CERT:
		if (k->n_certs == CLI_MAX_KEYS)
			return cli_usage_error(cmd, "at most %d --cert",
					       CLI_MAX_KEYS);
		k->certs[k->n_certs++] = arg;
		return 1;
	case CLI_OPT_CHAIN:
		if (k->n_chains == CLI_MAX_KEYS)
			return cli_usage_error(cmd, "at most %d --chain",
					       CLI_MAX_KEYS);
		k->chains[k->n_chains++] = arg;
		return 1;
	case CLI_OPT_RSA_PADDING:
		if (strcmp(arg, "pss") && strcmp(arg, "pkcs1"))
			return cli_usage_error(cmd,
					       "--rsa-padding: '%s' is not pss "
					       "or pkcs1",
					       arg);
		k->rsa_pkcs1 = strcmp(arg, "pkcs1") == 0;
		return 1;
	case CLI_OPT_PKCS11_MODULE:
		k->module = arg;
		return 1;
	case CLI_OPT_PASSPHRASE_FILE:
		k->passphrase_file = arg;
		return 1;
	default:
		return 0;
	}
}

int cli_keys_pkcs11(struct cli_keys *k, bool need_p11)
{
	struct ota_pkcs11_opts o = {
		.module =
		    k->module ? k->module : getenv("OTATOOL_PKCS11_MODULE"),
		.allow_prompt = cli_can_prompt(),
		.uri_from_argv = true,
	};

	for (size_t i = 0; i < k->n; i++)
		need_p11 |= ota_pkcs11_is_uri(k->refs[i]);
	if (!need_p11 || k->p11)
		return 0;
	/* One context: one module load, one session and login per token. */
	return ota_pkcs11_new(&k->p11, &o);
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

bool cli_can_prompt(void)
{
	/* A prompt needs a person: CI and pipes get an error, not a hang. */
	return isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
}

int cli_keys_attach(const struct cli_keys *k, size_t i, struct ota_key *key)
{
	int rc = 0;

	if (i < k->n_certs)
		rc = ota_key_set_certificate(key, k->certs[i]);
	if (rc == 0 && i < k->n_chains)
		rc = add_chain(key, k->chains[i]);
	return rc;
}

int cli_keys_open(struct cli_keys *k)
{
	struct ota_key_opts kopts = { 0 };
	int rc;

	if (k->n_certs > k->n)
		return ota_error(OTA_EUSAGE, "more --cert than --key");
	if (k->n_chains > k->n_certs)
		return ota_error(OTA_EUSAGE,
				 "--chain goes with a --cert (the n-th chain "
				 "belongs to the n-th certificate)");
	if ((rc = cli_keys_pkcs11(k, false)))
		return rc;
	kopts.pkcs11 = k->p11;
	kopts.passphrase_file = k->passphrase_file;
	kopts.allow_prompt = cli_can_prompt();
	kopts.rsa_pkcs1 = k->rsa_pkcs1;
	for (size_t i = 0; i < k->n; i++)
		if ((rc = ota_key_open(&k->keys[i], k->refs[i], &kopts)) ||
		    (rc = cli_keys_attach(k, i, k->keys[i])))
			return rc;
	return 0;
}

int cli_keys_check_chains(const struct cli_keys *k, const struct ota_trust *t)
{
	struct ota_chain_report report;
	size_t checked = 0;

	if (sk_X509_num(t->anchors) <= 0)
		return 0;
	/*
	 * Keys without a certificate (an old key during rotation, trusted by
	 * key id on devices) have no chain to check; at least one key must.
	 */
	for (size_t i = 0; i < k->n; i++) {
		const uint8_t *const *der;
		const size_t *lens;
		int rc;

		if (ota_key_certs(k->keys[i], &der, &lens) == 0)
			continue;
		rc = ota_trust_check_signer(&report, t, k->keys[i],
					    (int64_t)time(NULL));
		if (rc)
			return rc;
		checked++;
	}
	if (checked == 0)
		return ota_error(OTA_EUSAGE,
				 "--trust checks the signers' chains, but no "
				 "--key has a certificate (--cert)");
	return 0;
}

void cli_keys_close(struct cli_keys *k)
{
	for (size_t i = 0; i < k->n; i++) {
		ota_key_free(k->keys[i]);
		k->keys[i] = NULL;
	}
	ota_pkcs11_free(k->p11);
	k->p11 = NULL;
}
