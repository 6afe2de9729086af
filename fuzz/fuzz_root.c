/*
 * libFuzzer target for trust root records (otatool-root(5)): the host
 * reader (src/lib/root.c) and the device parser (src/device/otaroot.c) on
 * the same bytes.
 *
 * Invariants, beyond no crash, leak, hang or sanitizer report:
 * - the host reader fails only with OTA_EINPUT, with a message naming the
 *   record and an offset;
 * - a record the host reads is written again byte for byte (one encoding);
 * - the device parser, fed whole and fed a byte at a time, gives the same
 *   status and the same state. Its crypto is a stand-in that accepts every
 *   signature, so that the fuzzer reaches the threshold and state code
 *   (the unit tests check real signatures).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otaroot.h"
#include "otatool/error.h"
#include "otatool/root.h"

static int f_init(void *ctx)
{
	(void)ctx;
	return 0;
}

static int f_update(void *ctx, const uint8_t *d, size_t n)
{
	(void)ctx;
	(void)d;
	(void)n;
	return 0;
}

static int f_final(void *ctx, uint8_t out[32])
{
	(void)ctx;
	memset(out, 0x5a, 32);
	return 0;
}

static int f_verify(void *ctx, uint16_t alg, const uint8_t *pub, size_t pl,
		    const uint8_t *d, size_t dl, const uint8_t *sig, size_t sl)
{
	(void)ctx;
	(void)alg;
	(void)pub;
	(void)pl;
	(void)d;
	(void)dl;
	(void)sig;
	(void)sl;
	return 0; /* every signature "valid": the parser's paths past it */
}

static const struct otaroot_crypto crypto = { NULL, f_init, f_update, f_final,
					      f_verify };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct otaroot_state a, b;
	struct otaroot_parser p;
	enum otaroot_status whole, bytes;
	struct ota_root *r = NULL;
	int rc;

	rc = ota_root_parse(&r, data, size, "fuzz");
	if (rc) {
		if (rc != OTA_EINPUT || !strstr(ota_error_message(), "fuzz"))
			abort();
	} else {
		uint8_t *out = NULL;
		size_t len = 0;

		if (ota_root_encode(&out, &len, r) || len != size ||
		    memcmp(out, data, size) != 0)
			abort(); /* not written again byte for byte */
		free(out);
		ota_root_free(r);
	}
	if (size > 0xffffffffu)
		return 0;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	whole = otaroot_read(&crypto, NULL, &a, data, size);
	otaroot_begin(&p, &crypto, NULL, &b, (uint32_t)size);
	for (size_t i = 0; i < size; i++)
		otaroot_feed(&p, data + i, 1);
	bytes = otaroot_end(&p);
	if (whole != bytes)
		abort();
	if (whole == OTAROOT_OK && memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	return 0;
}
