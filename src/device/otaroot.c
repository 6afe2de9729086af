/*
 * Trust root records on the device (otaroot.h, otatool-root(5)): a push
 * parser fed a record in chunks of any size, with a fixed state, no heap,
 * no recursion and only memcpy/memcmp/memset from libc. It hashes the
 * signed part as it passes, keeps the new keys in the caller's candidate
 * state, buffers one signature at a time, and counts each root key of the
 * old and of the new state once.
 */
#include "otaroot.h"

#include <string.h>

#define HEADER    32u
#define KEY_FIXED 44u
#define SIG_FIXED 36u

enum state {
	ST_HEADER,
	ST_KEY,
	ST_KEY_PUB,
	ST_REVOKED,
	ST_SIG_HDR,
	ST_SIG,
	ST_SIG_VALUE,
	ST_SIG_SKIP, /* a signature too long for this build: not counted */
	ST_PAD,
	ST_DONE,
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint32_t align4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

static int fail(struct otaroot_parser *p, enum otaroot_status st, uint32_t off,
		const char *what)
{
	if (p->status == OTAROOT_OK) {
		p->status = st;
		p->err_offset = off;
		p->err_what = what;
	}
	return -1;
}

/* The next item: need bytes, copied to dst (p->buf when NULL). */
static int want(struct otaroot_parser *p, int st, uint32_t need, uint8_t *dst)
{
	p->state = st;
	p->need = need;
	p->have = 0;
	p->dst = dst ? dst : p->buf;
	return 0;
}

static int pad_done(struct otaroot_parser *p);

/* Zero padding of n bytes, then the item `after` says. */
static int pad_then(struct otaroot_parser *p, uint32_t n, int after)
{
	p->left = n;
	p->after = after;
	p->state = ST_PAD;
	return n == 0 ? pad_done(p) : 0;
}

static int valid_alg(uint16_t alg)
{
	return alg >= OTAPKG_SIG_ECDSA_P256 && alg <= OTAPKG_SIG_ED25519;
}

static int header(struct otaroot_parser *p)
{
	const uint8_t *h = p->buf;
	struct otaroot_state *s = p->out;
	unsigned n_keys = h[26], n_revoked = h[27];

	if (memcmp(h, "OTAR", 4) != 0)
		return fail(p, OTAROOT_E_FORMAT, 0, "not a root record");
	if (le16(h + 4) != 1 || le16(h + 6) != HEADER)
		return fail(p, OTAROOT_E_FORMAT, 4, "unknown format version");
	p->signed_len = le32(h + 8);
	if (p->signed_len < HEADER || p->signed_len % 4 != 0 ||
	    p->signed_len > p->total - 4u)
		return fail(p, OTAROOT_E_FORMAT, 8,
			    "signed part size out of range");
	if (le32(h + 12) == 0 || le32(h + 28) != 0)
		return fail(p, OTAROOT_E_FORMAT, 12,
			    "version 0 or reserved field not zero");
	if (n_keys < 2 || n_keys > 16 || n_revoked > 32)
		return fail(p, OTAROOT_E_FORMAT, 26, "key or revoked count");
	if (n_keys > OTAROOT_MAX_KEYS || n_revoked > OTAROOT_MAX_REVOKED)
		return fail(p, OTAROOT_E_LIMIT, 26,
			    "more keys or revoked ids than this device holds");
	memset(s, 0, sizeof(*s));
	s->version = le32(h + 12);
	s->expires = (uint64_t)le32(h + 16) | (uint64_t)le32(h + 20) << 32;
	s->root_threshold = h[24];
	s->release_threshold = h[25];
	s->n_keys = (uint8_t)n_keys;
	s->n_revoked = (uint8_t)n_revoked;
	p->item = 0;
	return want(p, ST_KEY, KEY_FIXED, NULL);
}

static int key_entry(struct otaroot_parser *p)
{
	const uint8_t *e = p->buf;
	struct otaroot_key *k = &p->out->keys[p->item];
	uint32_t off = p->offset - KEY_FIXED;
	uint16_t n = le16(e + 40);

	if (p->offset > p->signed_len)
		return fail(p, OTAROOT_E_FORMAT, off,
			    "key past the signed part");
	if ((e[32] != OTAROOT_ROLE_ROOT && e[32] != OTAROOT_ROLE_RELEASE) ||
	    e[33] != 0 || le16(e + 42) != 0 || !valid_alg(le16(e + 34)))
		return fail(p, OTAROOT_E_FORMAT, off + 32,
			    "key role, algorithm or reserved byte");
	if (n == 0 || n > 600 || align4(n) > p->signed_len - p->offset)
		return fail(p, OTAROOT_E_FORMAT, off + 40,
			    "public key length out of range");
	if (n > OTAROOT_MAX_PUBLIC)
		return fail(p, OTAROOT_E_LIMIT, off + 40,
			    "a public key longer than this device holds");
	if (p->item > 0 && memcmp(p->out->keys[p->item - 1].id, e, 32) >= 0)
		return fail(p, OTAROOT_E_FORMAT, off,
			    "key ids not in increasing order");
	memcpy(k->id, e, 32);
	k->role = e[32];
	k->alg = le16(e + 34);
	k->generation = le32(e + 36);
	k->pub_len = n;
	return want(p, ST_KEY_PUB, n, k->pub);
}

static int key_pub(struct otaroot_parser *p)
{
	uint32_t n = p->out->keys[p->item].pub_len;

	p->item++;
	return pad_then(p, align4(n) - n,
			p->item < p->out->n_keys ? ST_KEY : ST_REVOKED);
}

static int in_list(const uint8_t (*ids)[32], unsigned n, const uint8_t *id)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (memcmp(ids[i], id, 32) == 0)
			return 1;
	return 0;
}

static int has_key(const struct otaroot_state *s, const uint8_t *id)
{
	unsigned i;

	for (i = 0; i < s->n_keys; i++)
		if (memcmp(s->keys[i].id, id, 32) == 0)
			return 1;
	return 0;
}

static int signed_done(struct otaroot_parser *p);

/* After the keys: the revoked ids must fill the signed part exactly. */
static int next_after_keys(struct otaroot_parser *p)
{
	if (p->signed_len - p->offset != 32u * p->out->n_revoked)
		return fail(p, OTAROOT_E_FORMAT, p->offset,
			    "revoked ids do not fill the signed part");
	p->item = 0;
	if (p->out->n_revoked == 0)
		return signed_done(p);
	return want(p, ST_REVOKED, 32, p->out->revoked[0]);
}

static unsigned count_role(const struct otaroot_state *s, uint8_t role)
{
	unsigned i, n = 0;

	for (i = 0; i < s->n_keys; i++)
		n += s->keys[i].role == role;
	return n;
}

/* The signed part is complete: its digest, thresholds and revocations. */
static int signed_done(struct otaroot_parser *p)
{
	const struct otaroot_state *o = p->old;
	struct otaroot_state *s = p->out;
	unsigned i;

	if (p->crypto->hash_final(p->crypto->ctx, s->record_digest) != 0)
		return fail(p, OTAROOT_E_CRYPTO, p->offset, "hashing failed");
	if (s->root_threshold < 1 ||
	    s->root_threshold > count_role(s, OTAROOT_ROLE_ROOT) ||
	    s->release_threshold < 1 ||
	    s->release_threshold > count_role(s, OTAROOT_ROLE_RELEASE))
		return fail(p, OTAROOT_E_FORMAT, 24, "threshold out of range");
	for (i = 0; o != NULL && i < o->n_revoked; i++)
		if (!in_list((const uint8_t(*)[32])s->revoked, s->n_revoked,
			     o->revoked[i]))
			return fail(p, OTAROOT_E_REVOKED, HEADER,
				    "a revoked key id is no longer revoked");
	return want(p, ST_SIG_HDR, 4, NULL);
}

static int revoked(struct otaroot_parser *p)
{
	const uint8_t *id = p->out->revoked[p->item];

	if (p->item > 0 && memcmp(p->out->revoked[p->item - 1], id, 32) >= 0)
		return fail(p, OTAROOT_E_FORMAT, p->offset - 32,
			    "revoked ids not in increasing order");
	if (has_key(p->out, id))
		return fail(p, OTAROOT_E_FORMAT, p->offset - 32,
			    "a listed key is revoked");
	p->item++;
	if (p->item < p->out->n_revoked)
		return want(p, ST_REVOKED, 32, p->out->revoked[p->item]);
	return signed_done(p);
}

/* After a signature entry: the next, or the end of the record. */
static int next_sig(struct otaroot_parser *p)
{
	if (p->item >= p->n_items) {
		if (p->offset != p->total)
			return fail(p, OTAROOT_E_FORMAT, p->offset,
				    "bytes after the last signature");
		p->state = ST_DONE;
		return 0;
	}
	return want(p, ST_SIG, SIG_FIXED, NULL);
}

static int sig_header(struct otaroot_parser *p)
{
	uint16_t n = le16(p->buf);

	if (n < 1 || n > 16 || le16(p->buf + 2) != 0)
		return fail(p, OTAROOT_E_FORMAT, p->offset - 4,
			    "signature count or reserved field");
	p->n_items = n;
	p->item = 0;
	return want(p, ST_SIG, SIG_FIXED, NULL);
}

static int sig_entry(struct otaroot_parser *p)
{
	uint32_t off = p->offset - SIG_FIXED;

	memcpy(p->sig_keyid, p->buf, 32);
	p->sig_alg = le16(p->buf + 32);
	p->sig_len = le16(p->buf + 34);
	if (!valid_alg(p->sig_alg) || p->sig_len < 1 || p->sig_len > 512 ||
	    align4(p->sig_len) > p->total - p->offset)
		return fail(p, OTAROOT_E_FORMAT, off,
			    "signature algorithm or length");
	if (p->sig_len > OTAROOT_MAX_SIG) {
		p->state = ST_SIG_SKIP;
		p->left = p->sig_len;
		p->after = ST_SIG;
		return 0;
	}
	return want(p, ST_SIG_VALUE, p->sig_len, NULL);
}

/* Counts the entry for each state whose root key made it, once a key. */
static void count(struct otaroot_parser *p, const struct otaroot_state *s,
		  uint16_t *mask)
{
	const struct otaroot_crypto *c = p->crypto;
	unsigned i;

	for (i = 0; i < s->n_keys; i++) {
		const struct otaroot_key *k = &s->keys[i];

		if (memcmp(k->id, p->sig_keyid, 32) != 0)
			continue;
		if (k->role != OTAROOT_ROLE_ROOT || k->alg != p->sig_alg ||
		    (*mask & (1u << i)) != 0)
			return;
		if (c->verify(c->ctx, k->alg, k->pub, k->pub_len,
			      p->out->record_digest, 32, p->buf,
			      p->sig_len) == 0)
			*mask = (uint16_t)(*mask | 1u << i);
		return;
	}
}

static int sig_value(struct otaroot_parser *p)
{
	if (p->old != NULL && !in_list((const uint8_t(*)[32])p->old->revoked,
				       p->old->n_revoked, p->sig_keyid))
		count(p, p->old, &p->old_signed);
	count(p, p->out, &p->new_signed);
	p->item++;
	return pad_then(p, align4(p->sig_len) - p->sig_len, ST_SIG);
}

/* The item just completed. */
static int complete(struct otaroot_parser *p)
{
	switch (p->state) {
	case ST_HEADER:
		return header(p);
	case ST_KEY:
		return key_entry(p);
	case ST_KEY_PUB:
		return key_pub(p);
	case ST_REVOKED:
		return revoked(p);
	case ST_SIG_HDR:
		return sig_header(p);
	case ST_SIG:
		return sig_entry(p);
	case ST_SIG_VALUE:
		return sig_value(p);
	default:
		return fail(p, OTAROOT_E_FORMAT, p->offset, "internal state");
	}
}

/* After padding: the item it leads to. */
static int pad_done(struct otaroot_parser *p)
{
	if (p->after == ST_KEY)
		return want(p, ST_KEY, KEY_FIXED, NULL);
	if (p->after == ST_REVOKED)
		return next_after_keys(p);
	return next_sig(p);
}

void otaroot_begin(struct otaroot_parser *p,
		   const struct otaroot_crypto *crypto,
		   const struct otaroot_state *old, struct otaroot_state *out,
		   uint32_t total_len)
{
	memset(p, 0, sizeof(*p));
	p->crypto = crypto;
	p->old = old;
	p->out = out;
	p->total = total_len;
	want(p, ST_HEADER, HEADER, NULL);
	if (total_len < HEADER + 4u + SIG_FIXED)
		fail(p, OTAROOT_E_FORMAT, 0, "too short for a root record");
	else if (crypto->hash_init(crypto->ctx) != 0)
		fail(p, OTAROOT_E_CRYPTO, 0, "hashing failed");
}

enum otaroot_status otaroot_feed(struct otaroot_parser *p, const uint8_t *data,
				 size_t len)
{
	while (len > 0 && p->status == OTAROOT_OK) {
		size_t n;

		if (p->state == ST_DONE || p->offset >= p->total) {
			fail(p, OTAROOT_E_FORMAT, p->offset,
			     "bytes past the record's length");
			break;
		}
		if (p->state == ST_PAD || p->state == ST_SIG_SKIP) {
			n = p->left < len ? p->left : len;
			if (p->state == ST_PAD) {
				size_t i;

				for (i = 0; i < n; i++)
					if (data[i] != 0) {
						fail(p, OTAROOT_E_FORMAT,
						     p->offset + (uint32_t)i,
						     "padding is not zero");
						return p->status;
					}
			}
		} else {
			n = p->need - p->have;
			if (n > len)
				n = len;
		}
		if ((uint64_t)p->offset + n > p->total) {
			fail(p, OTAROOT_E_FORMAT, p->offset,
			     "an item runs past the record's length");
			break;
		}
		/* the signed part is hashed as it passes */
		if (p->offset < (p->signed_len ? p->signed_len : HEADER)) {
			uint32_t end = p->signed_len ? p->signed_len : HEADER;
			size_t h = end - p->offset < n ? end - p->offset : n;

			if (p->crypto->hash_update(p->crypto->ctx, data, h) !=
			    0) {
				fail(p, OTAROOT_E_CRYPTO, p->offset,
				     "hashing failed");
				break;
			}
		}
		if (p->state == ST_PAD || p->state == ST_SIG_SKIP) {
			p->left -= (uint32_t)n;
			p->offset += (uint32_t)n;
			data += n;
			len -= n;
			if (p->left > 0)
				continue;
			if (p->state == ST_SIG_SKIP) {
				p->item++;
				pad_then(p, align4(p->sig_len) - p->sig_len,
					 ST_SIG);
			} else {
				pad_done(p);
			}
			continue;
		}
		memcpy(p->dst + p->have, data, n);
		p->have += (uint32_t)n;
		p->offset += (uint32_t)n;
		data += n;
		len -= n;
		if (p->have == p->need)
			complete(p);
	}
	return p->status;
}

static enum otaroot_status refuse(struct otaroot_parser *p,
				  enum otaroot_status st, uint32_t off,
				  const char *what)
{
	fail(p, st, off, what);
	return p->status;
}

enum otaroot_status otaroot_end(struct otaroot_parser *p)
{
	const struct otaroot_state *o = p->old;
	struct otaroot_state *s = p->out;
	unsigned old_n = 0, new_n = 0, i;

	if (p->status != OTAROOT_OK)
		return p->status;
	if (p->state != ST_DONE || p->offset != p->total)
		return refuse(p, OTAROOT_E_FORMAT, p->offset, "truncated");
	for (i = 0; i < 16; i++) {
		old_n += ((unsigned)p->old_signed >> i) & 1u;
		new_n += ((unsigned)p->new_signed >> i) & 1u;
	}
	if (o != NULL) {
		if (s->version < o->version ||
		    (s->version == o->version &&
		     memcmp(s->record_digest, o->record_digest, 32) == 0))
			return refuse(p, OTAROOT_E_ROLLBACK, 12,
				      "not newer than the record in force");
		if (s->version == o->version)
			return refuse(p, OTAROOT_E_FORK, 12,
				      "another record of the version in force");
		if (s->version - o->version != 1u)
			return refuse(p, OTAROOT_E_SKIPPED, 12,
				      "a version skipped");
		for (i = 0; i < s->n_keys; i++)
			if (in_list((const uint8_t(*)[32])o->revoked,
				    o->n_revoked, s->keys[i].id))
				return refuse(p, OTAROOT_E_REVOKED, HEADER,
					      "a revoked key is listed again");
		if (old_n < o->root_threshold)
			return refuse(p, OTAROOT_E_SIGNATURE, p->signed_len,
				      "the old root keys' threshold is not "
				      "met");
	}
	if (new_n < s->root_threshold)
		return refuse(p, OTAROOT_E_SIGNATURE, p->signed_len,
			      "the new root keys' threshold is not met");
	s->min_generation = o != NULL ? o->min_generation : 0;
	return OTAROOT_OK;
}

enum otaroot_status otaroot_read(const struct otaroot_crypto *crypto,
				 const struct otaroot_state *old,
				 struct otaroot_state *out,
				 const uint8_t *record, size_t len)
{
	struct otaroot_parser p;

	if (len > 0xffffffffu)
		return OTAROOT_E_FORMAT;
	otaroot_begin(&p, crypto, old, out, (uint32_t)len);
	otaroot_feed(&p, record, len);
	return otaroot_end(&p);
}

enum otaroot_status otaroot_check_time(const struct otaroot_state *s,
				       uint64_t now)
{
	return s->expires != 0 && now >= s->expires ? OTAROOT_E_EXPIRED
						    : OTAROOT_OK;
}

int otaroot_verify_package_sig(const struct otaroot_state *s,
			       const struct otaroot_crypto *crypto,
			       const struct otav_sig *sig,
			       const uint8_t *digest, size_t digest_len)
{
	unsigned i;

	for (i = 0; i < s->n_keys; i++) {
		const struct otaroot_key *k = &s->keys[i];

		if (memcmp(k->id, sig->keyid, 32) != 0)
			continue;
		if (k->role != OTAROOT_ROLE_RELEASE || k->alg != sig->alg ||
		    k->generation < s->min_generation)
			return 1;
		return crypto->verify(crypto->ctx, k->alg, k->pub, k->pub_len,
				      digest, digest_len, sig->sig,
				      sig->len) == 0
			   ? 0
			   : -1;
	}
	return 1;
}

uint32_t otaroot_key_generation(const struct otaroot_state *s,
				const uint8_t keyid[32])
{
	unsigned i;

	for (i = 0; i < s->n_keys; i++)
		if (memcmp(s->keys[i].id, keyid, 32) == 0)
			return s->keys[i].generation;
	return 0;
}

void otaroot_commit(struct otaroot_state *persisted,
		    const struct otaroot_state *candidate, uint32_t generation)
{
	uint32_t min = persisted->min_generation > candidate->min_generation
			   ? persisted->min_generation
			   : candidate->min_generation;

	if (candidate->version < persisted->version)
		return; /* never down */
	if (persisted != candidate)
		memcpy(persisted, candidate, sizeof(*persisted));
	persisted->min_generation = generation > min ? generation : min;
}

void otaroot_walk_init(struct otaroot_walk *w,
		       const struct otaroot_crypto *crypto,
		       const struct otaroot_state *persisted)
{
	memset(w, 0, sizeof(*w));
	w->crypto = crypto;
	w->current = persisted;
}

void otaroot_walk_begin(struct otaroot_walk *w, uint32_t len)
{
	otaroot_begin(&w->parser, w->crypto, w->current, &w->states[w->next],
		      len);
}

void otaroot_walk_feed(struct otaroot_walk *w, const uint8_t *data, size_t len)
{
	otaroot_feed(&w->parser, data, len);
}

void otaroot_walk_end(struct otaroot_walk *w)
{
	enum otaroot_status st = otaroot_end(&w->parser);

	if (st == OTAROOT_OK && w->refused == OTAROOT_OK) {
		w->current = &w->states[w->next];
		w->next ^= 1u;
		w->applied++;
	} else if (st == OTAROOT_E_ROLLBACK) {
		w->skipped++;
	} else if (w->refused == OTAROOT_OK) {
		/* later records cannot follow a refused one */
		w->refused = st == OTAROOT_OK ? OTAROOT_E_SKIPPED : st;
	}
}

const struct otaroot_state *otaroot_walk_result(const struct otaroot_walk *w)
{
	return w->current;
}

const char *otaroot_status_name(enum otaroot_status s)
{
	switch (s) {
	case OTAROOT_OK:
		return "ok";
	case OTAROOT_E_FORMAT:
		return "format";
	case OTAROOT_E_LIMIT:
		return "limit";
	case OTAROOT_E_SIGNATURE:
		return "signature";
	case OTAROOT_E_ROLLBACK:
		return "rollback";
	case OTAROOT_E_SKIPPED:
		return "skipped-version";
	case OTAROOT_E_FORK:
		return "fork";
	case OTAROOT_E_EXPIRED:
		return "expired";
	case OTAROOT_E_REVOKED:
		return "revoked";
	case OTAROOT_E_CRYPTO:
		return "crypto";
	}
	return "unknown";
}
