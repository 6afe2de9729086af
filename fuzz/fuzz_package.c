/*
 * libFuzzer target for the device-side package verifier
 * (src/device/otaverify.c). The first input byte chooses how the rest, the
 * package, is cut into chunks; the verifier runs twice, on the whole input
 * and on the chunks, and must give the same answer both ways (and never
 * crash or hang). The crypto is a cheap stand-in so that the fuzzer can get
 * past the digests: an FNV-style hash, a verify that trusts the all-zero
 * key id, and for encrypted images an unwrap that takes the IMAGE_KEY of
 * the all-zero key id and an XOR cipher. tests/unit/test_otaverify.c includes
 * this file (with FUZZ_PACKAGE_NO_MAIN) to write and check the seeds in
 * fuzz/corpus/package with these same functions.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/device \
 *     src/device/otaverify.c src/device/otaroot.c fuzz/fuzz_package.c \
 *     -o /tmp/fuzz_package
 *   /tmp/fuzz_package fuzz/corpus/package
 */
#include "otaverify.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_hash {
	uint64_t h;
	unsigned out_len;
};

static int fuzz_hash_init(void *ctx, uint8_t alg)
{
	struct fuzz_hash *f = ctx;

	if (alg < OTAPKG_DIGEST_SHA256 || alg > OTAPKG_DIGEST_SHA512)
		return 1;
	f->out_len = alg == OTAPKG_DIGEST_SHA256   ? 32u
		     : alg == OTAPKG_DIGEST_SHA384 ? 48u
						   : 64u;
	f->h = 0xcbf29ce484222325u ^ alg;
	return 0;
}

static int fuzz_hash_update(void *ctx, const uint8_t *data, size_t len)
{
	struct fuzz_hash *f = ctx;
	size_t i;

	for (i = 0; i < len; i++)
		f->h = (f->h ^ data[i]) * 0x100000001b3u;
	return 0;
}

static int fuzz_hash_final(void *ctx, uint8_t *out)
{
	struct fuzz_hash *f = ctx;
	uint64_t h = f->h;
	unsigned i;

	for (i = 0; i < f->out_len; i++) {
		h = (h ^ i) * 0x100000001b3u;
		out[i] = (uint8_t)(h >> 56);
	}
	return 0;
}

static int fuzz_verify(void *ctx, const struct otav_sig *sig,
		       const uint8_t *digest, size_t digest_len)
{
	static const uint8_t zero[32];

	(void)ctx;
	(void)digest;
	(void)digest_len;
	return memcmp(sig->keyid, zero, sizeof(zero)) == 0 ? 0 : 1;
}

/*
 * Encrypted images: the IMAGE_KEY of the all-zero key id "unwraps", and
 * the stand-in cipher XORs 0x5a, so that the fuzzer reaches the
 * decrypting path (and its chunking) past the key checks.
 */
static int fuzz_unwrap(void *ctx, unsigned image,
		       const struct otav_image_key *k)
{
	static const uint8_t zero[32];

	(void)ctx;
	if (image >= OTAPKG_MAX_IMAGES || k->image != image ||
	    (k->key_len != 16 && k->key_len != 32) || k->wrapped_len == 0)
		abort();
	return memcmp(k->keyid, zero, sizeof(zero)) == 0 ? 0 : 1;
}

static int fuzz_cipher_init(void *ctx, unsigned image)
{
	(void)ctx;
	if (image >= OTAPKG_MAX_IMAGES)
		abort();
	return 0;
}

static int fuzz_cipher_update(void *ctx, const uint8_t *in, uint8_t *out,
			      size_t len)
{
	size_t i;

	(void)ctx;
	if (len == 0 || len > OTAPKG_MAX_TLV_VALUE + 8)
		abort();
	for (i = 0; i < len; i++)
		out[i] = in[i] ^ 0x5a;
	return 0;
}

static void fuzz_crypto(struct otav_crypto *c, struct fuzz_hash *h)
{
	memset(c, 0, sizeof(*c));
	c->ctx = h;
	c->hash_init = fuzz_hash_init;
	c->hash_update = fuzz_hash_update;
	c->hash_final = fuzz_hash_final;
	c->verify = fuzz_verify;
	c->unwrap = fuzz_unwrap;
	c->cipher_init = fuzz_cipher_init;
	c->cipher_update = fuzz_cipher_update;
}

/* Every policy check on: the seeds pass it, mutants may not. */
static const struct otav_policy fuzz_policy = {
	.hardware = "fuzz-board",
	.check_counter = 1,
	.counter = 3,
	.check_bootloader = 1,
	.bootloader = { 1, 0, 0 },
};

#ifndef FUZZ_PACKAGE_NO_MAIN

/* What the events saw, to check against what the verifier says. */
struct fuzz_seen {
	uint64_t image_bytes[OTAPKG_MAX_IMAGES];
	uint64_t clear_bytes[OTAPKG_MAX_IMAGES]; /* decrypted */
	unsigned images_done, sigs;
	uint64_t cert_bytes;
	unsigned region_tlvs;
	uint64_t region_bytes;
};

static int ev_image_data(void *ctx, unsigned index, const uint8_t *data,
			 size_t len)
{
	struct fuzz_seen *s = ctx;

	(void)data;
	if (index >= OTAPKG_MAX_IMAGES || len == 0)
		abort();
	s->image_bytes[index] += len;
	return 0;
}

/* Decrypted bytes follow the same stored bytes, never more of them. */
static int ev_image_clear(void *ctx, unsigned index, const uint8_t *data,
			  size_t len)
{
	struct fuzz_seen *s = ctx;

	(void)data;
	if (index >= OTAPKG_MAX_IMAGES || len == 0)
		abort();
	s->clear_bytes[index] += len;
	if (s->clear_bytes[index] > s->image_bytes[index])
		abort();
	return 0;
}

static int ev_image_done(void *ctx, unsigned index)
{
	struct fuzz_seen *s = ctx;

	if (index != s->images_done)
		abort();
	s->images_done++;
	return 0;
}

static int ev_cert_data(void *ctx, unsigned sig_index, unsigned cert_index,
			uint32_t cert_len, const uint8_t *data, size_t len)
{
	struct fuzz_seen *s = ctx;

	(void)sig_index;
	(void)cert_index;
	(void)data;
	if (len == 0 || len > cert_len)
		abort();
	s->cert_bytes += len;
	return 0;
}

static int ev_signature(void *ctx, unsigned index, const struct otav_sig *sig,
			int result)
{
	struct fuzz_seen *s = ctx;

	if (index != s->sigs || sig->len < 1 || sig->len > OTAPKG_MAX_SIG_LEN ||
	    result < -1 || result > 1)
		abort();
	s->sigs++;
	return 0;
}

static int ev_region_tlv(void *ctx, uint64_t offset, uint16_t type,
			 uint16_t len)
{
	struct fuzz_seen *s = ctx;

	(void)offset;
	if (type < 0x8000u || len < OTAPKG_REGION_FIXED)
		abort();
	s->region_tlvs++;
	return 0;
}

static int ev_region_data(void *ctx, const uint8_t *data, size_t len)
{
	struct fuzz_seen *s = ctx;

	(void)data;
	if (len == 0 || s->region_tlvs == 0)
		abort();
	s->region_bytes += len;
	return 0;
}

static void run(struct otav *v, struct fuzz_seen *seen, const uint8_t *data,
		size_t size, unsigned sel)
{
	static struct fuzz_hash hash;
	static struct otav_crypto crypto;
	static struct otav_events events;
	uint32_t rng = sel * 2654435761u + 1;
	size_t max = sel < 128 ? 1 + (sel & 15) : 1 + 97 * (size_t)(sel & 127);

	fuzz_crypto(&crypto, &hash);
	memset(&events, 0, sizeof(events));
	memset(seen, 0, sizeof(*seen));
	events.ctx = seen;
	events.image_data = ev_image_data;
	events.image_done = ev_image_done;
	events.image_clear = ev_image_clear;
	events.cert_data = ev_cert_data;
	events.signature = ev_signature;
	events.region_tlv = ev_region_tlv;
	events.region_data = ev_region_data;
	otav_init(v, &crypto, &fuzz_policy, &events);
	if (sel == 255) {
		otav_feed(v, data, size);
	} else {
		while (size > 0) {
			size_t n;

			rng = rng * 1103515245u + 12345u;
			n = 1 + (rng >> 8) % max;
			if (n > size)
				n = size;
			otav_feed(v, data, n);
			data += n;
			size -= n;
		}
	}
	otav_finish(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct otav whole, chunked;
	static struct fuzz_seen seen_whole, seen_chunked;
	unsigned i;

	if (size < 1)
		return 0;
	run(&whole, &seen_whole, data + 1, size - 1, 255);
	run(&chunked, &seen_chunked, data + 1, size - 1, data[0]);

	/* The answer must not depend on how the input was cut. */
	if (whole.status != chunked.status ||
	    whole.err_offset != chunked.err_offset ||
	    (whole.status != OTAV_OK &&
	     strcmp(whole.err_what, chunked.err_what) != 0) ||
	    memcmp(&whole.info, &chunked.info, sizeof(whole.info)) != 0 ||
	    seen_whole.images_done != seen_chunked.images_done ||
	    seen_whole.cert_bytes != seen_chunked.cert_bytes ||
	    seen_whole.region_tlvs != seen_chunked.region_tlvs ||
	    seen_whole.region_bytes != seen_chunked.region_bytes)
		abort();
	if (whole.status != OTAV_OK) {
		if (whole.err_what == NULL || whole.err_what[0] == '\0' ||
		    strcmp(otav_status_name(whole.status), "unknown") == 0)
			abort();
		return 0;
	}
	/*
	 * Accepted: everything was read, every image delivered whole, and an
	 * unprotected region, if any, ended with its footer.
	 */
	if (whole.offset != size - 1 ||
	    whole.offset != whole.info.total_size +
				(whole.info.region_size > 0
				     ? whole.info.region_size +
					   (uint64_t)OTAPKG_REGION_FOOTER
				     : 0) ||
	    (whole.info.region_size == 0) != (seen_whole.region_tlvs == 0) ||
	    seen_whole.region_tlvs != whole.info.n_timestamps +
					  whole.info.n_ocsp +
					  whole.info.n_root_records ||
	    seen_whole.images_done != whole.info.image_count ||
	    whole.info.trusted_sig >= whole.info.n_sigs)
		abort();
	for (i = 0; i < whole.info.image_count; i++)
		if (seen_whole.image_bytes[i] !=
			whole.info.images[i].stored_size ||
		    seen_whole.clear_bytes[i] !=
			((whole.info.images[i].flags & OTAPKG_IMAGE_ENCRYPTED)
			     ? whole.info.images[i].stored_size
			     : 0))
			abort();
	return 0;
}

#endif
