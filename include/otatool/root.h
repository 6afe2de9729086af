/*
 * Trust root records (otatool-root(5)): a signed list of the keys a fleet
 * trusts, each with a role (root: signs the next record; release: signs
 * packages) and a generation, a threshold per role, an optional expiry and
 * the key ids revoked. Versions follow TUF's rule: version N+1 is valid
 * only if a threshold of version N's root keys and a threshold of its own
 * root keys signed it, each key counted once. This module reads, writes
 * and signs records and is the one place that judges them.
 */
#ifndef OTATOOL_ROOT_H
#define OTATOOL_ROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otatool/key.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ota_trust;

/* The format's limits, small enough for a device to hold (otatool-root(5)). */
#define OTA_ROOT_MAX_KEYS    16
#define OTA_ROOT_MAX_REVOKED 32
#define OTA_ROOT_MAX_SIGS    16
#define OTA_ROOT_MAX_PUBLIC  600 /* RSA-4096 SubjectPublicKeyInfo: 550 */
#define OTA_ROOT_MAX_SIG     512
#define OTA_ROOT_MAX_SIZE    32768u /* a whole record, signatures included */

enum ota_root_role {
	OTA_ROOT_ROLE_ROOT = 1,    /* signs the next root record */
	OTA_ROOT_ROLE_RELEASE = 2, /* signs packages */
};

/* "root", "release"; NULL for another value. */
const char *ota_root_role_name(enum ota_root_role role);

struct ota_root_key {
	char id[OTA_KEY_ID_LEN + 1]; /* SHA-256 of its SubjectPublicKeyInfo */
	enum ota_root_role role;
	uint32_t generation;
	enum ota_sig_alg alg;
	struct ota_public_key *pub; /* owned */
};

struct ota_root_sig {
	char keyid[OTA_KEY_ID_LEN + 1];
	enum ota_sig_alg alg;
	size_t len;
	uint8_t sig[OTA_ROOT_MAX_SIG];
};

/* A record, parsed or being built; ota_root_free() frees it. */
struct ota_root {
	uint32_t version;
	uint64_t expires; /* seconds since the epoch; 0: never */
	unsigned root_threshold, release_threshold;
	size_t n_keys;
	struct ota_root_key keys[OTA_ROOT_MAX_KEYS]; /* sorted by id */
	size_t n_revoked;
	char revoked[OTA_ROOT_MAX_REVOKED][OTA_KEY_ID_LEN + 1]; /* sorted */
	size_t n_sigs;
	struct ota_root_sig sigs[OTA_ROOT_MAX_SIGS];
	/* The signed part as read (or as last encoded), malloc'ed. */
	uint8_t *signed_part;
	size_t signed_len;
};

/*
 * Parses a whole record (otatool-root(5)): every length, limit, order and
 * reserved byte, each key id against its public key. Signatures are not
 * judged here (ota_root_check_*). OTA_EINPUT naming name and the byte
 * offset.
 */
int ota_root_parse(struct ota_root **out, const uint8_t *data, size_t len,
		   const char *name);
int ota_root_load(struct ota_root **out, const char *path);
void ota_root_free(struct ota_root *r); /* accepts NULL */

/* Building ---------------------------------------------------------------- */

/* An empty record of version 1, thresholds 1, no expiry. */
int ota_root_new(struct ota_root **out);

/*
 * The next version of prev: its keys, thresholds, expiry and revoked ids,
 * version + 1 (OTA_EINPUT past 2^32 - 1), no signatures.
 */
int ota_root_next(struct ota_root **out, const struct ota_root *prev);

/*
 * Adds a key (a copy is kept) with its role and generation; its algorithm
 * follows from the key (RSA: PSS unless rsa_pkcs1). A key already listed,
 * or revoked in r, or past OTA_ROOT_MAX_KEYS: OTA_EUSAGE.
 */
int ota_root_add_key(struct ota_root *r, const struct ota_public_key *k,
		     enum ota_root_role role, uint32_t generation,
		     bool rsa_pkcs1);

/* Removes the key with this id (hex); OTA_EUSAGE if r has none. */
int ota_root_remove_key(struct ota_root *r, const char *id);

/*
 * Revokes a key id (hex, 64 digits): listed as revoked, and removed from
 * the keys if r has it. Revoking an id twice is OTA_EUSAGE.
 */
int ota_root_revoke(struct ota_root *r, const char *id);

/*
 * A key named on a command line: 64 hex digits, or a public key,
 * certificate or private key file (its id). OTA_EUSAGE/OTA_EINPUT.
 */
int ota_root_key_id_arg(char id[OTA_KEY_ID_LEN + 1], const char *arg);

/* One change from a record to the next (trust init, rotate, revoke). */
struct ota_root_change {
	/* keys to add, each with its role */
	const struct ota_public_key *const *root_keys;
	size_t n_root_keys;
	const struct ota_public_key *const *release_keys;
	size_t n_release_keys;
	bool rsa_pkcs1;
	/* generation of the keys added; 0: 1 for a first record, else the
	 * record's highest generation + 1 */
	uint32_t generation;
	const char *const *remove; /* key ids or key files */
	size_t n_remove;
	const char *const *revoke; /* key ids or key files */
	size_t n_revoke;
	unsigned root_threshold, release_threshold; /* 0: unchanged */
	bool set_expires;
	uint64_t expires; /* 0: never */
};

/*
 * Applies c to r (removals and revocations first, then additions and
 * thresholds) and checks the shape (ota_root_check_shape). first says r
 * is a version 1 being made.
 */
int ota_root_apply(struct ota_root *r, const struct ota_root_change *c,
		   bool first);

/* The highest generation of r's keys (0 when it has none). */
uint32_t ota_root_max_generation(const struct ota_root *r);

/*
 * Whether r can be encoded: at least one key of each role, thresholds
 * between 1 and the number of keys of their role. OTA_EUSAGE saying what.
 */
int ota_root_check_shape(const struct ota_root *r);

/*
 * Signs r with each signer (SHA-256 of the signed part, as
 * ota_key_sign_digest signs digests). A record that has signatures keeps
 * its signed part and gets more (two-step, one person per key); a key
 * that already signed is signed again in its place. r's signed part is
 * encoded first when it has none.
 */
struct ota_signers;
int ota_root_sign(struct ota_root *r, const struct ota_signers *signers);

/* Drops the signatures and the signed part (before a change). */
void ota_root_unsign(struct ota_root *r);

/* The whole record, malloc'ed; OTA_EUSAGE if it has no signature. */
int ota_root_encode(uint8_t **out, size_t *len, const struct ota_root *r);
/* Encoded, to path through ota_output (atomic). */
int ota_root_write(const char *path, const struct ota_root *r);

/* Judging ----------------------------------------------------------------- */

/*
 * How many distinct keys of role `role` listed in `keys` (and not revoked
 * by it) signed `rec` validly: each key counted once however many
 * signature entries it made. Signatures by other keys are ignored.
 */
unsigned ota_root_count_signers(const struct ota_root *keys,
				enum ota_root_role role,
				const struct ota_root *rec);

/*
 * A record trusted from outside (the first one a device holds): it must
 * be signed by a threshold of its own root keys. OTA_EVERIFY saying how
 * many of how many.
 */
int ota_root_check_self(const struct ota_root *r, const char *name);

/*
 * TUF's rule for a rotation: next's version is prev's + 1 (lower or equal:
 * OTA_EDOWNGRADE, a rollback; higher: OTA_EVERIFY, a skipped version, walk
 * the chain), and next is signed by prev's root threshold of prev's root
 * keys and by its own root threshold of its own root keys; every id prev
 * revoked stays revoked (OTA_EVERIFY). Expiry is not
 * judged here: an expired record may still lead to a newer one.
 */
int ota_root_check_next(const struct ota_root *prev,
			const struct ota_root *next, const char *name);

/*
 * The record in force must not have expired at time at (seconds since
 * the epoch): OTA_EVERIFY naming the expiry.
 */
int ota_root_check_expiry(const struct ota_root *r, int64_t at,
			  const char *name);

/* What one record of a walk did. */
enum ota_root_step_result {
	OTA_ROOT_STEP_APPLIED, /* the next version: now in force */
	OTA_ROOT_STEP_KNOWN,   /* not newer than the one in force: ignored */
	OTA_ROOT_STEP_REFUSED, /* a rule refused it: the walk stops */
};

struct ota_root_step {
	uint32_t version;
	enum ota_root_step_result result;
	char message[400];
};

/*
 * Walks candidate records forward from *current (trusted): each record
 * newer than the one in force must pass ota_root_check_next() against it
 * and becomes the one in force; an older one is ignored (a package may
 * carry records the device already has); one of the same version must be
 * the same bytes (a second, different record of one version is refused:
 * someone holding root keys signed two histories). Candidates are taken
 * in version order whatever order they come in. steps (n entries) says
 * what each did, in the order taken. Then the record in force must not
 * have expired at at (at < 0: not checked). Returns 0, or the first
 * refusal's code (*current is then the last record accepted).
 */
int ota_root_walk(const struct ota_root **current,
		  const struct ota_root *const *candidates, size_t n,
		  struct ota_root_step *steps, int64_t at);

/* What ota_root_establish() did, for a report line per record. */
#define OTA_ROOT_MAX_WALK 64
struct ota_root_chain_report {
	bool has_trusted;          /* the first record was read */
	bool trusted_ok;           /* and met its own root threshold */
	uint32_t trusted_version;  /* the first record's version */
	char trusted_message[400]; /* why it is, or is not, trusted */
	uint32_t version;          /* the record in force at the end */
	size_t n_steps;
	struct ota_root_step steps[OTA_ROOT_MAX_WALK];
	bool expiry_checked;
	char expiry_message[400];
};

/*
 * verify --root: paths[0] is the record the device trusts (it must meet
 * its own root threshold); paths[1..], and the records the package at
 * path package carries when it is not NULL, are walked forward from it
 * (ota_root_walk). The record in force must not have expired at t's time
 * (--at) or now. Then t gets its release keys, threshold and revoked ids
 * (ota_root_trust). Returns 0 or the first refusal; rep says what each
 * record did either way.
 */
int ota_root_establish(struct ota_trust *t, struct ota_root_chain_report *rep,
		       const char *const *paths, size_t n, const char *package);

/*
 * The root records a package carries (ROOT_RECORD entries of its
 * unprotected region, otatool-package(5)), parsed, at most cap of them:
 * *n of them in out, the caller's to free. A package is read as inspect
 * reads it; an entry that does not parse is OTA_EVERIFY.
 */
int ota_root_from_package(struct ota_root **out, size_t *n, size_t cap,
			  const char *package);

/*
 * package --root-record: adds the records (files) to the package's
 * unprotected region, in place and atomically, the signed bytes
 * unchanged: with the records it had, in increasing version, one record
 * per version (the same bytes given twice are kept once; two records of
 * one version are OTA_EUSAGE).
 */
int ota_root_add_to_package(const char *package, const char *const *records,
			    size_t n);

/*
 * A verifier's trust from the record in force: its release keys that are
 * not revoked, its release threshold, and its revoked ids (a revoked key
 * is refused even through a certificate chain).
 */
int ota_root_trust(struct ota_trust *t, const struct ota_root *r);

/* The record as JSON text (otatool trust show --json), malloc'ed. */
int ota_root_to_json(char **out, size_t *len, const struct ota_root *r);

#ifdef __cplusplus
}
#endif
#endif
