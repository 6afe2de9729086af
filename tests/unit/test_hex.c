/* Unit tests for src/lib/hex.c. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "otatool/hex.h"

Test(hex, encode)
{
	static const uint8_t bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char buf[2 * sizeof(bytes) + 1 + 4];

	memset(buf, '#', sizeof(buf));
	ota_hex_encode(buf, bytes, sizeof(bytes));
	cr_assert_str_eq(buf, "00017f80abff");
	/* Nothing written past the terminator. */
	cr_assert_eq(buf[2 * sizeof(bytes) + 1], '#');

	memset(buf, '#', sizeof(buf));
	ota_hex_encode(buf, bytes, 0);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(buf[1], '#');
}
