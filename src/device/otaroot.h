/*
 * Trust root records on the device (otatool-root(5)): C99, no malloc, no
 * recursion, fixed state. A device keeps one struct otaroot_state in
 * flash, like its anti-rollback counter: the keys it trusts, their
 * thresholds, the lowest key generation it still accepts and the key ids
 * revoked. It learns newer records from packages (the ROOT_RECORD entries
 * of a package's unprotected region), walking them forward one version
 * at a time into a CANDIDATE state, verifies the package against the
 * candidate, and persists the candidate only once the new image booted
 * and was confirmed. Crypto sits behind struct otaroot_crypto.
 */
#ifndef OTAROOT_H
#define OTAROOT_H

#include <stddef.h>
#include <stdint.h>

#include "otaverify.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A device build's limits, below the format's (16 keys, 32 revoked ids,
 * 600-byte keys, 512-byte signatures): records beyond them are refused
 * with OTAROOT_E_LIMIT, so a fleet's records must fit its devices. The
 * defaults hold ECDSA P-256/P-384 and Ed25519 keys (RSA needs
 * OTAROOT_MAX_PUBLIC 600 and OTAROOT_MAX_SIG 512).
 */
#ifndef OTAROOT_MAX_KEYS
#define OTAROOT_MAX_KEYS 4
#endif
#ifndef OTAROOT_MAX_REVOKED
#define OTAROOT_MAX_REVOKED 8
#endif
#ifndef OTAROOT_MAX_PUBLIC
#define OTAROOT_MAX_PUBLIC 97 /* an uncompressed P-384 point */
#endif
#ifndef OTAROOT_MAX_SIG
#define OTAROOT_MAX_SIG 104 /* a DER ECDSA P-384 signature */
#endif

#define OTAROOT_ROLE_ROOT    1
#define OTAROOT_ROLE_RELEASE 2

struct otaroot_key {
	uint8_t id[32]; /* SHA-256 of the SubjectPublicKeyInfo */
	uint8_t role;   /* OTAROOT_ROLE_* */
	uint8_t reserved;
	uint16_t alg; /* OTAPKG_SIG_* */
	uint32_t generation;
	uint16_t pub_len;
	uint8_t pub[OTAROOT_MAX_PUBLIC]; /* as otatool-root(5) stores it */
};

/* What a device persists (and what a candidate is). */
struct otaroot_state {
	uint32_t version;        /* of the record in force; never lowered */
	uint32_t min_generation; /* release keys below it: not trusted */
	uint64_t expires;        /* 0: never */
	uint8_t root_threshold, release_threshold, n_keys, n_revoked;
	uint8_t record_digest[32]; /* SHA-256 of the record's signed part */
	struct otaroot_key keys[OTAROOT_MAX_KEYS];
	uint8_t revoked[OTAROOT_MAX_REVOKED][32];
};

enum otaroot_status {
	OTAROOT_OK = 0,
	OTAROOT_E_FORMAT,    /* malformed: a length, order or reserved byte */
	OTAROOT_E_LIMIT,     /* beyond this device build's limits */
	OTAROOT_E_SIGNATURE, /* thresholds of the old or new root keys unmet */
	OTAROOT_E_ROLLBACK,  /* a version not newer (handled by the walk) */
	OTAROOT_E_SKIPPED,   /* a version more than one ahead */
	OTAROOT_E_FORK,      /* the same version as the one held, other bytes */
	OTAROOT_E_EXPIRED,   /* past its expiry (only with a trusted time) */
	OTAROOT_E_REVOKED,   /* a revoked id listed again, or dropped */
	OTAROOT_E_CRYPTO,    /* a crypto callback failed */
};

struct otaroot_crypto {
	void *ctx;
	/* SHA-256, one at a time; non-zero = fail. */
	int (*hash_init)(void *ctx);
	int (*hash_update)(void *ctx, const uint8_t *data, size_t len);
	int (*hash_final)(void *ctx, uint8_t out[32]);
	/*
	 * Whether sig is alg's (OTAPKG_SIG_*) signature by the public key
	 * pub (otatool-root(5) form) over the 32-byte digest, signed as
	 * packages sign their digest: 0 = valid, anything else = not.
	 */
	int (*verify)(void *ctx, uint16_t alg, const uint8_t *pub,
		      size_t pub_len, const uint8_t *digest, size_t digest_len,
		      const uint8_t *sig, size_t sig_len);
};

/*
 * A record being read, fed in chunks. `old` is the state in force (it is
 * not changed), `out` receives the new state; both the caller's.
 */
struct otaroot_parser {
	const struct otaroot_crypto *crypto;
	const struct otaroot_state *old;
	struct otaroot_state *out;
	enum otaroot_status status;
	uint32_t err_offset;
	const char *err_what;
	int state;
	uint32_t offset, total, signed_len;
	uint32_t need, have;
	uint8_t *dst;
	uint32_t left;       /* padding (or a skipped signature) to come */
	int after;           /* the item after the padding */
	unsigned item;       /* key or signature being read */
	unsigned n_items;    /* keys in the record, then signatures */
	uint16_t old_signed; /* bitmask over old->keys counted */
	uint16_t new_signed; /* bitmask over out->keys counted */
	uint16_t sig_alg, sig_len;
	uint8_t sig_keyid[32];
	uint8_t buf[OTAROOT_MAX_SIG > 44 ? OTAROOT_MAX_SIG : 44];
};

/*
 * Starts reading a record of total_len bytes (a ROOT_RECORD entry's
 * length). With old NULL the record is the device's first (provisioning):
 * it must meet its own root threshold only.
 */
void otaroot_begin(struct otaroot_parser *p,
		   const struct otaroot_crypto *crypto,
		   const struct otaroot_state *old, struct otaroot_state *out,
		   uint32_t total_len);
enum otaroot_status otaroot_feed(struct otaroot_parser *p, const uint8_t *data,
				 size_t len);
/*
 * After the last byte: the rules of otatool-root(5) against old (version
 * old + 1, both thresholds, each key counted once; revoked ids kept).
 * OTAROOT_OK: *out is the next state, its min_generation old's.
 * OTAROOT_E_ROLLBACK: not newer (a walk skips it: packages carry records
 * the device already has); OTAROOT_E_FORK: old's version, other bytes.
 */
enum otaroot_status otaroot_end(struct otaroot_parser *p);

/* A record whole in memory: begin, feed, end. */
enum otaroot_status otaroot_read(const struct otaroot_crypto *crypto,
				 const struct otaroot_state *old,
				 struct otaroot_state *out,
				 const uint8_t *record, size_t len);

/*
 * The state's expiry against a time the device trusts (seconds since the
 * epoch). A device without a trusted clock does not call this: a record's
 * version only goes up, and an old record cannot come back.
 */
enum otaroot_status otaroot_check_time(const struct otaroot_state *s,
				       uint64_t now);

/*
 * For the package verifier's verify callback (struct otav_crypto):
 * whether the signature entry is by a release key of s that is not
 * revoked and whose generation is at least s->min_generation, and then
 * whether it verifies: 0 valid, 1 not a trusted key, -1 invalid.
 * With struct otav_policy's threshold set to s->release_threshold, the
 * verifier then requires that many distinct keys.
 */
int otaroot_verify_package_sig(const struct otaroot_state *s,
			       const struct otaroot_crypto *crypto,
			       const struct otav_sig *sig,
			       const uint8_t *digest, size_t digest_len);

/* The generation of key id in s, or 0 if s has no such key. */
uint32_t otaroot_key_generation(const struct otaroot_state *s,
				const uint8_t keyid[32]);

/*
 * After the new image booted and was confirmed: the candidate becomes
 * what the device persists, and its minimum generation rises to
 * generation (the lowest generation among the keys that signed the
 * confirmed image), never down. Write *persisted to flash atomically
 * (two copies, or a journal) as the anti-rollback counter is.
 */
void otaroot_commit(struct otaroot_state *persisted,
		    const struct otaroot_state *candidate, uint32_t generation);

/*
 * A walk over the records a package carries, oldest first: each one is
 * read against the state in force and, if valid, becomes it (two states,
 * swapped). Set struct otav_policy's roots to a walk and the package
 * verifier feeds it the region's ROOT_RECORD entries; the device then
 * verifies the package against otaroot_walk_result() (a second pass over
 * the staged package: the records come after the images).
 */
struct otaroot_walk {
	const struct otaroot_crypto *crypto;
	const struct otaroot_state *current; /* in force: persisted or ours */
	struct otaroot_state states[2];
	unsigned next; /* the state being read into */
	struct otaroot_parser parser;
	enum otaroot_status refused; /* the first refusal (not rollback) */
	unsigned applied, skipped;
};

/* persisted may be in memory-mapped flash: it is only read. */
void otaroot_walk_init(struct otaroot_walk *w,
		       const struct otaroot_crypto *crypto,
		       const struct otaroot_state *persisted);
void otaroot_walk_begin(struct otaroot_walk *w, uint32_t len);
void otaroot_walk_feed(struct otaroot_walk *w, const uint8_t *data, size_t len);
void otaroot_walk_end(struct otaroot_walk *w);
/* The state in force after the walk: the candidate (or persisted). */
const struct otaroot_state *otaroot_walk_result(const struct otaroot_walk *w);

const char *otaroot_status_name(enum otaroot_status s);

#ifdef __cplusplus
}
#endif
#endif
