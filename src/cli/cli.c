/* Shared CLI plumbing: error printing, option errors, progress display. */
#include "cli.h"

#include "otatool/cipher.h"
#include "otatool/error.h"
#include "otatool/key.h"
#include "otatool/pkcs11.h"
#include "otatool/timestamp.h"
#include "otatool/trust.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * Where the recorded message should send the reader for help: set with the
 * message by cli_usage_error() and cli_global_error(), and honoured only
 * while that message is still the recorded one.
 */
static enum { HINT_NONE, HINT_COMMAND, HINT_GLOBAL } hint;
static char hint_msg[1024];

static int record(int kind, const char *cmd, const char *fmt, va_list ap)
{
	int rc = ota_verror(OTA_EUSAGE, fmt, ap);

	(void)cmd;
	hint = kind;
	snprintf(hint_msg, sizeof(hint_msg), "%s", ota_error_message());
	return rc;
}

int cli_fail(const char *cmd, int rc)
{
	const char *msg = ota_error_message();
	int h = strcmp(msg, hint_msg) == 0 ? hint : HINT_NONE;

	if (rc >= 0) /* a caller's bug: there is no failure to report */
		rc = OTA_EINTERNAL;
	if (h == HINT_GLOBAL)
		fprintf(stderr, "otatool: %s\nTry 'otatool --help'.\n", msg);
	else
		fprintf(stderr, "otatool: %s: %s\n", cmd,
			*msg ? msg : "failed");
	if (h == HINT_COMMAND)
		fprintf(stderr, "Try 'otatool %s --help'.\n", cmd);
	return -rc;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = record(HINT_COMMAND, cmd, fmt, ap);
	va_end(ap);
	return rc;
}

int cli_global_error(const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = record(HINT_GLOBAL, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

/* Shared option groups ----------------------------------------------------- */

const struct cli_opt_spec cli_key_opts[] = {
	CLI_LIST("key", 'k', "KEY", CLI_FILE_IN, CLI_MAX_KEYS,
		 "private key file (PEM/DER) or pkcs11: URI\n"
		 "(repeatable: every key signs)"),
	CLI_LIST("cert", 0, "FILE", CLI_FILE_IN, CLI_MAX_KEYS,
		 "certificate of the n-th --key; must match it\n"
		 "and is embedded with its signature"),
	CLI_LIST("chain", 0, "FILE", CLI_FILE_IN, CLI_MAX_KEYS,
		 "intermediate certificates (PEM or DER) of the\n"
		 "n-th --key, embedded after its certificate"),
	CLI_VALUE("rsa-padding", 0, "PAD", CLI_FILE_NONE,
		  "pss (default) or pkcs1"),
	CLI_VALUE("pkcs11-module", 0, "PATH", CLI_FILE_IN,
		  "PKCS#11 module when the URI names none"),
	CLI_VALUE("passphrase-file", 0, "FILE", CLI_FILE_IN,
		  "passphrase of encrypted key files"),
	CLI_END,
};

const struct cli_opt_spec cli_trust_opts[] = {
	CLI_LIST("trust-key", 0, "FILE", CLI_FILE_IN, 0,
		 "a trusted public key (or certificate or private\n"
		 "key file); repeatable"),
	CLI_LIST("trust", 0, "FILE|DIR", CLI_FILE_IN, 0,
		 "trust anchors: PEM bundle, DER file or directory"),
	CLI_LIST("crl", 0, "FILE", CLI_FILE_IN, 0,
		 "certificate revocation list; repeatable"),
	CLI_FLAG("crl-required", 0,
		 "refuse certificates without a CRL of their issuer"),
	CLI_VALUE("at", 0, "TIME", CLI_FILE_NONE,
		  "check certificates at this RFC 3339 time (default:\n"
		  "the release's build time, or now)"),
	CLI_FLAG("allow-weak-crypto", 0,
		 "accept MD5/SHA-1 signatures, RSA < 2048 bits and\n"
		 "other curves in certificates"),
	CLI_END,
};

const struct cli_opt_spec cli_decrypt_opts[] = {
	CLI_VALUE("decrypt-key", 0, "KEY", CLI_FILE_IN,
		  "the device's private key (PEM/DER), AES-KW key\n"
		  "file or pkcs11: URI: decrypts an encrypted\n"
		  "package or MCUboot image, whose plaintext\n"
		  "digests are then checked"),
	CLI_VALUE("pkcs11-module", 0, "PATH", CLI_FILE_IN,
		  "PKCS#11 module when the URI names none"),
	CLI_VALUE("passphrase-file", 0, "FILE", CLI_FILE_IN,
		  "passphrase of an encrypted key file"),
	CLI_END,
};

int cli_decrypt_open(struct cli_decrypt *d, const struct cli_args *a)
{
	const char *ref = cli_value(a, "decrypt-key");
	struct ota_key_opts ko = {
		.passphrase_file = cli_value(a, "passphrase-file"),
		.allow_prompt = ota_signers_can_prompt(),
	};
	int rc;

	memset(d, 0, sizeof(*d));
	if (!ref)
		return 0;
	if (ota_pkcs11_is_uri(ref) &&
	    (rc =
		 ota_signers_pkcs11(&d->pkcs11, cli_value(a, "pkcs11-module"))))
		return rc;
	ko.pkcs11 = d->pkcs11;
	if ((rc = ota_decrypt_key_open(&d->key, ref, &ko))) {
		cli_decrypt_close(d);
		return rc;
	}
	return 0;
}

void cli_decrypt_close(struct cli_decrypt *d)
{
	ota_decrypt_key_free(d->key);
	ota_pkcs11_free(d->pkcs11);
	d->key = NULL;
	d->pkcs11 = NULL;
}

int cli_signers_from_args(struct cli_signers *s, const char *cmd,
			  const struct cli_args *a)
{
	const char *pad = cli_value(a, "rsa-padding");
	struct ota_signers_opts *o = &s->opts;

	memset(s, 0, sizeof(*s));
	if (pad && strcmp(pad, "pss") && strcmp(pad, "pkcs1"))
		return cli_usage_error(
		    cmd, "--rsa-padding: '%s' is not pss or pkcs1", pad);
	o->keys = s->keys;
	o->certs = s->certs;
	o->chains = s->chains;
	/* The spec bounds each list to CLI_MAX_KEYS. */
	for (; o->n_keys < cli_count(a, "key"); o->n_keys++)
		s->keys[o->n_keys] = cli_nth(a, "key", o->n_keys);
	for (; o->n_certs < cli_count(a, "cert"); o->n_certs++)
		s->certs[o->n_certs] = cli_nth(a, "cert", o->n_certs);
	for (; o->n_chains < cli_count(a, "chain"); o->n_chains++)
		s->chains[o->n_chains] = cli_nth(a, "chain", o->n_chains);
	o->rsa_pkcs1 = pad && strcmp(pad, "pkcs1") == 0;
	o->pkcs11_module = cli_value(a, "pkcs11-module");
	o->passphrase_file = cli_value(a, "passphrase-file");
	return 0;
}

int cli_trust_load(struct ota_trust *t, const struct cli_args *a)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < a->n_found; i++) {
		const char *name = a->found[i].opt->name;
		const char *arg = a->found[i].value;

		if (strcmp(name, "trust-key") == 0)
			rc = ota_trust_add_key(t, arg);
		else if (strcmp(name, "trust") == 0)
			rc = ota_trust_add_anchors(t, arg);
		else if (strcmp(name, "crl") == 0)
			rc = ota_trust_add_crls(t, arg);
		else if (strcmp(name, "crl-required") == 0)
			t->crl_required = true;
		else if (strcmp(name, "tsa-trust") == 0)
			rc = ota_trust_add_tsa_anchors(t, arg);
		else if (strcmp(name, "require-timestamp") == 0)
			t->require_timestamp = true;
		else if (strcmp(name, "allow-weak-crypto") == 0)
			t->allow_weak = true;
		else if (strcmp(name, "at") == 0) {
			if (ota_timestamp_parse(&t->at, arg))
				/* a bad option value: a usage error */
				return ota_error_wrap(OTA_EUSAGE, "--at");
			t->has_at = true;
		}
	}
	return rc;
}

void cli_progress_init(struct cli_progress *p, bool quiet)
{
	p->label = "";
	p->enabled = !quiet && isatty(STDERR_FILENO);
	p->last_percent = -1;
}

void cli_progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	struct cli_progress *p = ctx;
	int percent;

	/* Small files finish before anyone could read a progress line. */
	if (!p->enabled || total < (64u << 20))
		return;
	percent = (int)(done * 100 / total);
	if (percent == p->last_percent)
		return;
	p->last_percent = percent;
	fprintf(stderr, "\r%s: %3d%% (%llu of %llu MiB)", p->label, percent,
		(unsigned long long)(done >> 20),
		(unsigned long long)(total >> 20));
	if (done == total)
		fputc('\n', stderr);
}

void cli_progress_end(struct cli_progress *p)
{
	p->last_percent = -1;
}
