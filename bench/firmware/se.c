/*
 * ATECC608-class command protocol over I2C (se.h). A command is written
 * to word address 0x03 as count, opcode, param1, param2 (little-endian),
 * data, CRC-16; the element NAKs its address while it executes, then
 * answers count, data, CRC-16. Verification loads the digest into TempKey
 * with Nonce (pass-through) and runs Verify in stored mode against the
 * public key of a slot.
 */
#include "se.h"

#include <string.h>

#include "board.h"

#define WORD_RESET   0x00u
#define WORD_SLEEP   0x01u
#define WORD_COMMAND 0x03u

#define OP_READ   0x02u
#define OP_NONCE  0x16u
#define OP_VERIFY 0x45u

#define READ_DATA_ZONE 0x02u
#define READ_32_BYTES  0x80u
#define NONCE_PASS     0x03u /* mode: 32 bytes of input into TempKey */
#define VERIFY_STORED  0x00u

/* Maximum execution times, in ms (datasheet, worst case at 85 C) */
#define T_READ   2u
#define T_NONCE  8u
#define T_VERIFY 60u
#define T_WAKE   2u

#define STATUS_MISCOMPARE 0x01u
#define STATUS_AFTER_WAKE 0x11u

/* CRC-16, polynomial 0x8005, bits taken LSB first, initial value 0 */
static uint16_t crc16(const uint8_t *p, size_t len)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < len; i++)
		for (uint8_t bit = 1; bit != 0; bit = (uint8_t)(bit << 1)) {
			unsigned in = (p[i] & bit) ? 1u : 0u;
			unsigned top = crc >> 15;

			crc = (uint16_t)(crc << 1);
			if (in != top)
				crc ^= 0x8005u;
		}
	return crc;
}

static void delay_ms(uint32_t ms)
{
	uint32_t start = board_millis();

	while (board_millis() - start < ms + 1u) {
	}
}

/*
 * Reads a response of up to cap bytes into buf (count byte first), polling
 * while the element is busy for up to wait_ms. Returns the data length or
 * a negative se_result.
 */
static int response(uint8_t *buf, size_t cap, uint32_t wait_ms)
{
	uint32_t start = board_millis();
	uint16_t crc;
	int err;

	while ((err = i2c_read(SE_I2C_ADDR, buf, 1)) == -1 &&
	       board_millis() - start <= wait_ms) {
	}
	if (err != 0 || buf[0] < 4u || buf[0] > cap)
		return SE_E_BUS;
	if (i2c_read(SE_I2C_ADDR, buf + 1, buf[0] - 1u) != 0)
		return SE_E_BUS;
	crc = crc16(buf, buf[0] - 2u);
	if (buf[buf[0] - 2u] != (uint8_t)crc ||
	    buf[buf[0] - 1u] != (uint8_t)(crc >> 8))
		return SE_E_CRC;
	return buf[0] - 3;
}

/* One command; on success the response's data is in rsp[1..]. */
static int command(uint8_t op, uint8_t p1, uint16_t p2, const uint8_t *data,
		   size_t len, uint8_t *rsp, size_t rsp_cap, uint32_t wait_ms)
{
	uint8_t pkt[1 + 7 + 64 + 2];
	uint16_t crc;
	size_t n = 0;

	if (len > 64)
		return SE_E_BUS;
	pkt[n++] = WORD_COMMAND;
	pkt[n++] = (uint8_t)(7u + len);
	pkt[n++] = op;
	pkt[n++] = p1;
	pkt[n++] = (uint8_t)p2;
	pkt[n++] = (uint8_t)(p2 >> 8);
	if (len > 0)
		memcpy(pkt + n, data, len);
	n += len;
	crc = crc16(pkt + 1, n - 1);
	pkt[n++] = (uint8_t)crc;
	pkt[n++] = (uint8_t)(crc >> 8);
	if (i2c_write(SE_I2C_ADDR, pkt, n) != 0)
		return SE_E_BUS;
	return response(rsp, rsp_cap, wait_ms);
}

int se_wake(void)
{
	uint8_t zero = 0, rsp[4];

	/* Address 0 at 100 kHz holds SDA low long enough (t_WLO >= 60 us) */
	(void)i2c_write(0x00, &zero, 1);
	delay_ms(T_WAKE);
	if (response(rsp, sizeof(rsp), T_WAKE) != 1)
		return SE_E_BUS;
	return rsp[1] == STATUS_AFTER_WAKE ? SE_OK : SE_E_STATUS;
}

void se_sleep(void)
{
	uint8_t word = WORD_SLEEP;

	(void)i2c_write(SE_I2C_ADDR, &word, 1);
}

static int status_of(int n, const uint8_t *rsp)
{
	if (n < 0)
		return n;
	if (n != 1)
		return SE_E_BUS;
	if (rsp[1] == 0)
		return SE_OK;
	return rsp[1] == STATUS_MISCOMPARE ? SE_MISMATCH : SE_E_STATUS;
}

/*
 * Slots 9..15 hold 72 bytes; a public key is stored as 4 pad bytes, X,
 * 4 pad bytes, Y: two 32-byte blocks and two 4-byte words of block 2.
 */
int se_read_public_key(unsigned slot, uint8_t xy[64])
{
	uint8_t raw[72], rsp[1 + 32 + 2];
	unsigned done = 0;
	int n;

	if (slot < 9 || slot > 15)
		return SE_E_STATUS;
	for (unsigned block = 0; block < 2; block++, done += 32) {
		n = command(OP_READ, READ_DATA_ZONE | READ_32_BYTES,
			    (uint16_t)(block << 8 | slot << 3), NULL, 0, rsp,
			    sizeof(rsp), T_READ);
		if (n != 32)
			return n < 0 ? n : SE_E_STATUS;
		memcpy(raw + done, rsp + 1, 32);
	}
	for (unsigned word = 0; word < 2; word++, done += 4) {
		n = command(OP_READ, READ_DATA_ZONE,
			    (uint16_t)(2u << 8 | slot << 3 | word), NULL, 0,
			    rsp, sizeof(rsp), T_READ);
		if (n != 4)
			return n < 0 ? n : SE_E_STATUS;
		memcpy(raw + done, rsp + 1, 4);
	}
	memcpy(xy, raw + 4, 32);
	memcpy(xy + 32, raw + 40, 32);
	return SE_OK;
}

int se_verify_digest(unsigned slot, const uint8_t digest[32],
		     const uint8_t rs[64])
{
	uint8_t rsp[4];
	int n;

	n = command(OP_NONCE, NONCE_PASS, 0, digest, 32, rsp, sizeof(rsp),
		    T_NONCE);
	if ((n = status_of(n, rsp)) != SE_OK)
		return n == SE_MISMATCH ? SE_E_STATUS : n;
	n = command(OP_VERIFY, VERIFY_STORED, (uint16_t)slot, rs, 64, rsp,
		    sizeof(rsp), T_VERIFY);
	return status_of(n, rsp);
}
