/*
 * otatool trust: make, sign and read trust root records (otatool-root(5)):
 * init (version 1), rotate and revoke (the next version, signed by the old
 * and the new root keys), sign (one more signature, for thresholds held by
 * several people), show.
 */
#include "cli.h"
#include "report.h"

#include "otatool/error.h"
#include "otatool/parse.h"
#include "otatool/root.h"
#include "otatool/signer.h"
#include "otatool/timestamp.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_opt_spec opts[] = {
	CLI_TEXT("usage: otatool trust init --root-key PUB... --release-key "
		 "PUB... --key KEY... -o OUT\n"
		 "       otatool trust rotate PREV [changes] --key KEY... -o "
		 "OUT\n"
		 "       otatool trust revoke PREV --revoke-key ID|FILE... "
		 "--key KEY... -o OUT\n"
		 "       otatool trust sign RECORD --key KEY... [--previous "
		 "PREV] -o OUT\n"
		 "       otatool trust show RECORD [--previous PREV] [--json]\n"
		 "\n"
		 "init    make root record version 1, signed by its root keys\n"
		 "rotate  make version N+1 from version N: add, remove or "
		 "revoke keys,\n"
		 "        change thresholds or expiry; signed by a threshold "
		 "of N's root\n"
		 "        keys and of its own\n"
		 "revoke  rotate that revokes keys (they can never come back)\n"
		 "sign    add signatures to a record (two-step: one key "
		 "holder at a time)\n"
		 "show    print a record and whether its thresholds are met\n"
		 "\n"
		 "Keys and thresholds:\n"),
	CLI_LIST("root-key", 0, "PUB", CLI_FILE_IN, OTA_SIGNERS_MAX,
		 "add a root key (public key, certificate or\n"
		 "pkcs11: URI); signs the next record"),
	CLI_LIST("release-key", 0, "PUB", CLI_FILE_IN, OTA_SIGNERS_MAX,
		 "add a release key; signs packages"),
	CLI_LIST("remove-key", 0, "ID|FILE", CLI_FILE_NONE, OTA_ROOT_MAX_KEYS,
		 "rotate: drop a key (it may come back later)"),
	CLI_LIST("revoke-key", 0, "ID|FILE", CLI_FILE_NONE,
		 OTA_ROOT_MAX_REVOKED, "revoke a key id: never trusted again"),
	CLI_VALUE("root-threshold", 0, "N", CLI_FILE_NONE,
		  "root keys that must sign the next record\n"
		  "(init default 1; rotate: unchanged)"),
	CLI_VALUE("release-threshold", 0, "N", CLI_FILE_NONE,
		  "distinct release keys that must sign a package"),
	CLI_VALUE("generation", 0, "G", CLI_FILE_NONE,
		  "generation of the keys added (default: 1 for\n"
		  "init, else the highest so far + 1)"),
	CLI_VALUE("expires", 0, "TIME", CLI_FILE_NONE,
		  "RFC 3339 expiry of the record, or 'never'"),
	CLI_TEXT("\nSigning (the root private keys):\n"),
	CLI_GROUP(cli_key_opts),
	CLI_VALUE("previous", 0, "PREV", CLI_FILE_IN,
		  "sign, show: the record before this one, to\n"
		  "judge the rotation"),
	CLI_FLAG("partial", 0,
		 "write a record whose thresholds are not met yet\n"
		 "(more signatures to come with trust sign)"),
	CLI_TEXT("\nOutput:\n"),
	CLI_VALUE("output", 'o', "FILE", CLI_FILE_OUT, "the record to write"),
	CLI_FLAG("json", 0, "show: the record as JSON"),
	CLI_FLAG("quiet", 'q', "no summary on stderr"),
	CLI_HELP_OPT,
	CLI_TEXT("\nSee otatool-trust(1) and otatool-root(5).\n"),
	CLI_END,
};

static const struct cli_spec spec = { "trust", opts, CLI_FILE_IN, 27 };

struct trust_args {
	const char *sub, *input, *output, *previous;
	bool partial, json, quiet;
	struct cli_signers names;
	struct ota_signers *signers, *root_pubs, *release_pubs;
	struct ota_root_change change;
	const struct ota_public_key *root_keys[OTA_SIGNERS_MAX];
	const struct ota_public_key *release_keys[OTA_SIGNERS_MAX];
	const char *remove[OTA_ROOT_MAX_KEYS];
	const char *revoke[OTA_ROOT_MAX_REVOKED];
};

static int parse_threshold(unsigned *out, const struct cli_args *p,
			   const char *name)
{
	const char *v = cli_value(p, name);
	uint64_t n;

	if (!v)
		return 0;
	if (ota_parse_uint(&n, v, 255, name) || n == 0)
		return cli_usage_error("trust", "--%s: '%s' is not 1..255",
				       name, v);
	*out = (unsigned)n;
	return 0;
}

/* Public keys (files or token URIs) through the signers' rules. */
static int open_pubs(struct ota_signers **out,
		     const struct ota_public_key **keys, size_t *n,
		     const struct cli_args *p, const char *name,
		     const struct trust_args *a)
{
	const char *refs[OTA_SIGNERS_MAX];
	struct ota_signers_opts o = { 0 };
	int rc;

	*n = cli_count(p, name);
	if (*n == 0)
		return 0;
	for (size_t i = 0; i < *n; i++)
		refs[i] = cli_nth(p, name, i);
	o.keys = refs;
	o.n_keys = *n;
	o.public_only = true;
	o.pkcs11_module = a->names.opts.pkcs11_module;
	o.rsa_pkcs1 = a->names.opts.rsa_pkcs1;
	if ((rc = ota_signers_open(out, &o)))
		return ota_error_wrap(rc, "--%s", name);
	for (size_t i = 0; i < *n; i++)
		keys[i] = ota_key_public(ota_signers_key(*out, i));
	return 0;
}

static int parse_args(struct trust_args *a, const struct cli_args *p)
{
	struct ota_root_change *c = &a->change;
	const char *v;
	int rc;

	a->sub = p->operands[0];
	a->input = p->n_operands > 1 ? p->operands[1] : NULL;
	a->output = cli_value(p, "output");
	a->previous = cli_value(p, "previous");
	a->partial = cli_flag(p, "partial");
	a->json = cli_flag(p, "json");
	a->quiet = cli_flag(p, "quiet");
	if ((rc = cli_signers_from_args(&a->names, "trust", p)))
		return rc;
	if ((rc = parse_threshold(&c->root_threshold, p, "root-threshold")) ||
	    (rc = parse_threshold(&c->release_threshold, p,
				  "release-threshold")))
		return rc;
	if ((v = cli_value(p, "generation"))) {
		uint64_t n;

		if (ota_parse_uint(&n, v, UINT32_MAX, "--generation") || !n)
			return cli_usage_error("trust",
					       "--generation: '%s' is not "
					       "1..4294967295",
					       v);
		c->generation = (uint32_t)n;
	}
	if ((v = cli_value(p, "expires"))) {
		int64_t t = 0;

		c->set_expires = true;
		if (strcmp(v, "never") != 0) {
			if (ota_timestamp_parse(&t, v))
				return ota_error_wrap(OTA_EUSAGE, "--expires");
			if (t <= 0)
				return cli_usage_error(
				    "trust", "--expires: '%s' is before 1970",
				    v);
		}
		c->expires = (uint64_t)t;
	}
	for (; c->n_remove < cli_count(p, "remove-key"); c->n_remove++)
		a->remove[c->n_remove] = cli_nth(p, "remove-key", c->n_remove);
	for (; c->n_revoke < cli_count(p, "revoke-key"); c->n_revoke++)
		a->revoke[c->n_revoke] = cli_nth(p, "revoke-key", c->n_revoke);
	c->remove = a->remove;
	c->revoke = a->revoke;
	c->rsa_pkcs1 = a->names.opts.rsa_pkcs1;
	if ((rc = open_pubs(&a->root_pubs, a->root_keys, &c->n_root_keys, p,
			    "root-key", a)) ||
	    (rc = open_pubs(&a->release_pubs, a->release_keys,
			    &c->n_release_keys, p, "release-key", a)))
		return rc;
	c->root_keys = a->root_keys;
	c->release_keys = a->release_keys;
	return 0;
}

/* Whether rec's thresholds are met: its own, and prev's when given. */
static int judge(const struct ota_root *prev, const struct ota_root *rec,
		 const char *name)
{
	return prev ? ota_root_check_next(prev, rec, name)
		    : ota_root_check_self(rec, name);
}

static int sign_and_write(struct trust_args *a, const struct ota_root *prev,
			  struct ota_root *rec)
{
	int rc, jrc;

	if (!a->output)
		return cli_usage_error("trust", "%s: give -o OUT", a->sub);
	if (a->names.opts.n_keys == 0)
		return cli_usage_error("trust",
				       "%s: give the root private keys that "
				       "sign with --key",
				       a->sub);
	if ((rc = ota_signers_open(&a->signers, &a->names.opts)))
		return rc;
	if ((rc = ota_root_sign(rec, a->signers)))
		return rc;
	jrc = judge(prev, rec, a->output);
	if (jrc && !a->partial)
		return ota_error_wrap(jrc, "nothing written (--partial writes "
					   "it for more signatures)");
	if ((rc = ota_root_write(a->output, rec)))
		return rc;
	if (!a->quiet)
		fprintf(stderr,
			"otatool: trust: %s: root record version %u, %zu "
			"key%s, %zu signature%s%s\n",
			a->output, rec->version, rec->n_keys,
			rec->n_keys == 1 ? "" : "s", rec->n_sigs,
			rec->n_sigs == 1 ? "" : "s",
			jrc ? " (thresholds not met yet)" : "");
	if (jrc && !a->quiet)
		fprintf(stderr, "otatool: trust: %s\n", ota_error_message());
	return 0;
}

static int trust_init(struct trust_args *a)
{
	struct ota_root *rec = NULL;
	int rc;

	if (a->input)
		return cli_usage_error("trust", "init takes no RECORD");
	if (a->change.n_remove || a->change.n_revoke)
		return cli_usage_error("trust", "init: nothing to remove or "
						"revoke yet");
	if ((rc = ota_root_new(&rec)) ||
	    (rc = ota_root_apply(rec, &a->change, true)))
		goto out;
	rc = sign_and_write(a, NULL, rec);
out:
	ota_root_free(rec);
	return rc;
}

static int trust_rotate(struct trust_args *a, bool revoke)
{
	struct ota_root *prev = NULL, *rec = NULL;
	int rc;

	if (!a->input)
		return cli_usage_error("trust", "%s: give the record PREV",
				       a->sub);
	if (revoke && a->change.n_revoke == 0)
		return cli_usage_error("trust", "revoke: give --revoke-key");
	if ((rc = ota_root_load(&prev, a->input)) ||
	    (rc = ota_root_next(&rec, prev)) ||
	    (rc = ota_root_apply(rec, &a->change, false)))
		goto out;
	rc = sign_and_write(a, prev, rec);
out:
	ota_root_free(prev);
	ota_root_free(rec);
	return rc;
}

static int trust_sign(struct trust_args *a)
{
	struct ota_root *prev = NULL, *rec = NULL;
	int rc;

	if (!a->input)
		return cli_usage_error("trust", "sign: give the RECORD");
	if ((rc = ota_root_load(&rec, a->input)) ||
	    (a->previous && (rc = ota_root_load(&prev, a->previous))))
		goto out;
	rc = sign_and_write(a, prev, rec);
out:
	ota_root_free(prev);
	ota_root_free(rec);
	return rc;
}

static int trust_show(const struct trust_args *a)
{
	struct ota_root *prev = NULL, *rec = NULL;
	char t[OTA_TIMESTAMP_TEXT_LEN];
	char *text = NULL;
	size_t len;
	int rc, jrc;

	if (!a->input)
		return cli_usage_error("trust", "show: give the RECORD");
	if ((rc = ota_root_load(&rec, a->input)) ||
	    (a->previous && (rc = ota_root_load(&prev, a->previous))))
		goto out;
	jrc = judge(prev, rec, a->input);
	if (a->json) {
		if ((rc = ota_root_to_json(&text, &len, rec)))
			goto out;
		fwrite(text, 1, len, stdout);
	} else {
		printf("%s: otatool root record version %u\n", a->input,
		       rec->version);
		if (rec->expires && ota_timestamp_describe(t, rec->expires))
			printf("  expires            %s\n", t);
		else
			printf("  expires            never\n");
		printf("  root threshold     %u\n", rec->root_threshold);
		printf("  release threshold  %u\n", rec->release_threshold);
		for (size_t i = 0; i < rec->n_keys; i++)
			printf("  key %-7s %s generation %u %s\n",
			       ota_root_role_name(rec->keys[i].role),
			       rec->keys[i].id, rec->keys[i].generation,
			       ota_sig_alg_name(rec->keys[i].alg));
		for (size_t i = 0; i < rec->n_revoked; i++)
			printf("  revoked     %s\n", rec->revoked[i]);
		for (size_t i = 0; i < rec->n_sigs; i++)
			printf("  signature   %s %s\n", rec->sigs[i].keyid,
			       ota_sig_alg_name(rec->sigs[i].alg));
		printf("  thresholds         %s\n",
		       jrc ? ota_error_message() : "met");
	}
	/* a record that does not meet its thresholds is not valid */
	rc = jrc;
out:
	free(text);
	ota_root_free(prev);
	ota_root_free(rec);
	return rc;
}

int cmd_trust(int argc, char **argv)
{
	struct trust_args a = { 0 };
	struct cli_args p;
	int rc;

	if ((rc = cli_parse(&p, &spec, argc, argv)))
		return rc;
	if (p.help) {
		cli_help(&spec);
		goto out;
	}
	if (p.n_operands < 1 || p.n_operands > 2) {
		rc = cli_usage_error("trust", "expected init, rotate, revoke, "
					      "sign or show");
		goto out;
	}
	if ((rc = parse_args(&a, &p)))
		goto out;
	if (strcmp(a.sub, "init") == 0)
		rc = trust_init(&a);
	else if (strcmp(a.sub, "rotate") == 0)
		rc = trust_rotate(&a, false);
	else if (strcmp(a.sub, "revoke") == 0)
		rc = trust_rotate(&a, true);
	else if (strcmp(a.sub, "sign") == 0)
		rc = trust_sign(&a);
	else if (strcmp(a.sub, "show") == 0)
		rc = trust_show(&a);
	else
		rc = cli_usage_error("trust",
				     "'%s' is not init, rotate, "
				     "revoke, sign or show",
				     a.sub);
out:
	ota_signers_free(a.signers);
	ota_signers_free(a.root_pubs);
	ota_signers_free(a.release_pubs);
	cli_args_free(&p);
	return rc;
}
