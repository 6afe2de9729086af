/*
 * The trust options shared by every command that verifies (verify,
 * extract, package, chain check): --trust-key, --trust, --crl,
 * --crl-required, --at, --allow-weak-crypto mean the same everywhere.
 */
#ifndef OTATOOL_CLI_TRUSTOPTS_H
#define OTATOOL_CLI_TRUSTOPTS_H

#include <getopt.h>

#include "otatool/trust.h"

enum {
	CLI_OPT_TRUST_KEY = 1100,
	CLI_OPT_TRUST,
	CLI_OPT_CRL,
	CLI_OPT_CRL_REQUIRED,
	CLI_OPT_AT,
	CLI_OPT_ALLOW_WEAK,
};

#define CLI_TRUST_LONGOPTS                                                     \
	{ "trust-key", required_argument, NULL, CLI_OPT_TRUST_KEY },           \
	    { "trust", required_argument, NULL, CLI_OPT_TRUST },               \
	    { "crl", required_argument, NULL, CLI_OPT_CRL },                   \
	    { "crl-required", no_argument, NULL, CLI_OPT_CRL_REQUIRED },       \
	    { "at", required_argument, NULL, CLI_OPT_AT },                     \
	{                                                                      \
		"allow-weak-crypto", no_argument, NULL, CLI_OPT_ALLOW_WEAK     \
	}

#define CLI_TRUST_HELP                                                         \
	"      --trust-key FILE       a trusted public key (or certificate "   \
	"or "                                                                  \
	"private\n"                                                            \
	"                             key file); repeatable\n"                 \
	"      --trust FILE|DIR       trust anchors: PEM bundle, DER file or " \
	"directory\n"                                                          \
	"      --crl FILE             certificate revocation list; "           \
	"repeatable\n"                                                         \
	"      --crl-required         refuse certificates without a CRL of "   \
	"their issuer\n"                                                       \
	"      --at TIME              check certificates at this RFC 3339 "    \
	"time "                                                                \
	"(default:\n"                                                          \
	"                             the release's build time, or now)\n"     \
	"      --allow-weak-crypto    accept MD5/SHA-1 signatures, RSA < "     \
	"2048 "                                                                \
	"bits and\n"                                                           \
	"                             other curves in certificates\n"

/*
 * Takes option c when it is a trust option, loading the file at once so
 * that errors name it: 1 taken, 0 not a trust option, or a negative
 * library code (bad file) for the caller's cli_fail().
 */
int cli_trust_option(struct ota_trust *t, int c, const char *arg);

#endif
