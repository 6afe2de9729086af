/*
 * The signing-key options shared by every command that signs (sign,
 * package): one parser and one opener, so --key, --cert, --chain,
 * --rsa-padding, --pkcs11-module and --passphrase-file mean the same
 * everywhere.
 */
#ifndef OTATOOL_CLI_KEYOPTS_H
#define OTATOOL_CLI_KEYOPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "otatool/key.h"
#include "otatool/pkcs11.h"

#define CLI_MAX_KEYS 8

enum {
	CLI_OPT_CERT = 1000,
	CLI_OPT_CHAIN,
	CLI_OPT_RSA_PADDING,
	CLI_OPT_PKCS11_MODULE,
	CLI_OPT_PASSPHRASE_FILE,
};

/* Spliced into a command's struct option table. */
#define CLI_KEY_LONGOPTS                                                       \
	{ "key", required_argument, NULL, 'k' },                               \
	    { "cert", required_argument, NULL, CLI_OPT_CERT },                 \
	    { "chain", required_argument, NULL, CLI_OPT_CHAIN },               \
	    { "rsa-padding", required_argument, NULL, CLI_OPT_RSA_PADDING },   \
	    { "pkcs11-module", required_argument, NULL,                        \
	      CLI_OPT_PKCS11_MODULE },                                         \
	{                                                                      \
		"passphrase-file", required_argument, NULL,                    \
		    CLI_OPT_PASSPHRASE_FILE                                    \
	}

/* The help lines for those options. */
#define CLI_KEY_HELP                                                           \
	"  -k, --key KEY              private key file (PEM/DER) or pkcs11: "  \
	"URI\n"                                                                \
	"                             (repeatable: every key signs)\n"         \
	"      --cert FILE            certificate of the n-th --key; must "    \
	"match it\n"                                                           \
	"                             and is embedded with its signature\n"    \
	"      --chain FILE           intermediate certificates (PEM or DER) " \
	"of the\n"                                                             \
	"                             n-th --key, embedded after its "         \
	"certificate\n"                                                        \
	"      --rsa-padding PAD      pss (default) or pkcs1\n"                \
	"      --pkcs11-module PATH   PKCS#11 module when the URI names "      \
	"none\n"                                                               \
	"      --passphrase-file FILE passphrase of encrypted key files\n"

struct cli_keys {
	const char *refs[CLI_MAX_KEYS];
	size_t n;
	const char *certs[CLI_MAX_KEYS];
	size_t n_certs;
	const char *chains[CLI_MAX_KEYS];
	size_t n_chains;
	const char *module, *passphrase_file;
	bool rsa_pkcs1;
	/* after cli_keys_open(): */
	struct ota_pkcs11 *p11;
	struct ota_key *keys[CLI_MAX_KEYS];
};

/*
 * Takes option c if it is one of the key options: returns 1 when taken,
 * 0 when it is not a key option, or a usage exit status (> 1).
 */
int cli_keys_option(struct cli_keys *k, const char *cmd, int c,
		    const char *arg);

/*
 * The PKCS#11 context, created when any --key is a pkcs11: URI (or when
 * need_p11 is set, for public keys named by URI).
 */
int cli_keys_pkcs11(struct cli_keys *k, bool need_p11);

/* Whether asking on the terminal can work (stdin and stderr are ttys). */
bool cli_can_prompt(void);

/* Attaches the i-th --cert and --chain to key (checked against it). */
int cli_keys_attach(const struct cli_keys *k, size_t i, struct ota_key *key);

/* Opens every key, attaches and checks certificates and chains. */
int cli_keys_open(struct cli_keys *k);

/*
 * With trust anchors given (--trust), every key's certificate chain must
 * verify now, before anything is signed: fail on the workstation, not on
 * the fleet. Without anchors it does nothing.
 */
struct ota_trust;
int cli_keys_check_chains(const struct cli_keys *k, const struct ota_trust *t);

void cli_keys_close(struct cli_keys *k);

#endif
