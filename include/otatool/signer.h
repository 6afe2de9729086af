/*
 * Signers: the keys a command signs with (key files or pkcs11: URIs), each
 * with its certificate and intermediates attached and checked, the PKCS#11
 * context they need owned inside, and the passphrase and PIN prompt policy
 * decided in one place. The package and MCUboot writers take them as they
 * are.
 */
#ifndef OTATOOL_SIGNER_H
#define OTATOOL_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otatool/key.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_SIGNERS_MAX 8

struct ota_signers;
struct ota_pkcs11;
struct ota_trust;

/* What names the signers; every array is read during ota_signers_open(). */
struct ota_signers_opts {
	const char *const *keys; /* key files or pkcs11: URIs */
	size_t n_keys;
	/* The n-th certificate and chain belong to the n-th key. */
	const char *const *certs;
	size_t n_certs;
	const char *const *chains; /* PEM bundles or DER of intermediates */
	size_t n_chains;
	const char *pkcs11_module; /* NULL: $OTATOOL_PKCS11_MODULE */
	const char *passphrase_file;
	bool rsa_pkcs1;
	/*
	 * Public halves suffice (two-step signing): a public key file or a
	 * certificate is accepted; with forced_alg that algorithm is used.
	 */
	bool public_only;
	const enum ota_sig_alg *forced_alg;
};

/*
 * Opens every key, attaches and checks its certificate (it must match the
 * key) and intermediates. More certificates than keys, or a chain without
 * its certificate, is OTA_EUSAGE; a key or token problem OTA_EKEY; a bad
 * certificate file OTA_EINPUT. Passphrases and PINs are asked on the
 * terminal only when standard input and error are both terminals.
 */
int ota_signers_open(struct ota_signers **out,
		     const struct ota_signers_opts *opts);

/*
 * A set of borrowed keys (tests, callers that opened their own): the keys
 * stay the caller's and must outlive s.
 */
int ota_signers_wrap(struct ota_signers **out, struct ota_key *const *keys,
		     size_t n);

void ota_signers_free(struct ota_signers *s);

size_t ota_signers_count(const struct ota_signers *s);
struct ota_key *ota_signers_key(const struct ota_signers *s, size_t i);

/*
 * With trust anchors in t, every signer that has a certificate must chain
 * to one of them at time at (fail on the workstation, not on the fleet),
 * and at least one signer must have a certificate (else OTA_EUSAGE).
 * Without anchors it does nothing.
 */
int ota_signers_check_chains(const struct ota_signers *s,
			     const struct ota_trust *t, int64_t at);

/* Adds every signer's public key to t (the signers trust themselves). */
int ota_signers_trust(struct ota_trust *t, const struct ota_signers *s);

/*
 * A PKCS#11 context under the signers' rules (module from module or
 * $OTATOOL_PKCS11_MODULE, PIN from the URI, the environment or a prompt
 * on a terminal), for commands that list or generate token keys.
 */
int ota_signers_pkcs11(struct ota_pkcs11 **out, const char *module);

/* Whether a passphrase or PIN may be asked for: a person is there. */
bool ota_signers_can_prompt(void);

#ifdef __cplusplus
}
#endif
#endif
