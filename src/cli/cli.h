/* What every subcommand shares: the command table, errors, option parsing. */
#ifndef OTATOOL_CLI_H
#define OTATOOL_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "opt.h"
#include "otatool/signer.h"

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

extern const struct cli_command cli_commands[];

int cmd_manifest(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_package(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_timestamp(int argc, char **argv);
int cmd_chain(int argc, char **argv);
int cmd_trust(int argc, char **argv);

/* otatool --version [--json] (version.c); argv[0] is "--version". */
int cli_version(int argc, char **argv);

/*
 * The CLI's one return convention: every command and helper returns 0 or a
 * negative OTA_E* code with its message recorded (ota_error). The
 * dispatcher (main) hands a failing code to cli_fail(), which prints
 * "otatool: CMD: <message>" once on stderr and returns the exit status:
 * the only place a code becomes an exit status.
 */
int cli_fail(const char *cmd, int rc);

/*
 * A usage error: records the message, with a pointer to 'otatool CMD
 * --help' for cli_fail() to print after it; returns OTA_EUSAGE.
 */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A usage error of otatool itself (no command): "Try 'otatool --help'". */
int cli_global_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* The trust options (verify, extract, package, sign, chain check). */
extern const struct cli_opt_spec cli_trust_opts[];

/*
 * Loads the trust options of a, in command-line order, so that an error
 * names the file: a bad file is the library's code, a bad --at OTA_EUSAGE.
 */
struct ota_trust;
int cli_trust_load(struct ota_trust *t, const struct cli_args *a);

/*
 * The device-key options (verify, inspect, extract): --decrypt-key FILE or
 * pkcs11: URI, with --pkcs11-module and --passphrase-file to open it.
 */
extern const struct cli_opt_spec cli_decrypt_opts[];

/* An opened device key and the PKCS#11 context it may live in. */
struct ota_decrypt_key;
struct ota_pkcs11;
struct cli_decrypt {
	struct ota_decrypt_key *key; /* NULL: no --decrypt-key */
	struct ota_pkcs11 *pkcs11;
};

/* Opens --decrypt-key if given; errors name it (the library's codes). */
int cli_decrypt_open(struct cli_decrypt *d, const struct cli_args *a);
/* Wipes the key and closes its token. Accepts an unopened one. */
void cli_decrypt_close(struct cli_decrypt *d);

/* The signing-key options (sign, package). */
extern const struct cli_opt_spec cli_key_opts[];
#define CLI_MAX_KEYS OTA_SIGNERS_MAX

/* What the key options name, as the signer module takes it. */
struct cli_signers {
	const char *keys[CLI_MAX_KEYS], *certs[CLI_MAX_KEYS],
	    *chains[CLI_MAX_KEYS];
	struct ota_signers_opts opts;
};

/* Reads the key options of a into s; a bad --rsa-padding: OTA_EUSAGE. */
int cli_signers_from_args(struct cli_signers *s, const char *cmd,
			  const struct cli_args *a);

/* Progress on stderr for hashing big images, only on a terminal. */
struct cli_progress {
	const char *label;
	bool enabled;
	int last_percent;
};
void cli_progress_init(struct cli_progress *p, bool quiet);
void cli_progress_cb(void *ctx, uint64_t done, uint64_t total);
void cli_progress_end(struct cli_progress *p);

#endif
