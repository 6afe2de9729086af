/* Bytes as lower-case hexadecimal text. */
#include "otatool/hex.h"

void ota_hex_encode(char *buf, const uint8_t *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		buf[2 * i] = hex[data[i] >> 4];
		buf[2 * i + 1] = hex[data[i] & 0xf];
	}
	buf[2 * len] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ota_hex_decode(uint8_t *out, const char *hex, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi = nibble(hex[2 * i]),
		    lo = hi < 0 ? -1 : nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex[2 * len] == '\0' ? 0 : -1;
}
