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
