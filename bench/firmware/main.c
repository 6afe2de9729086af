/*
 * The benchmark firmware's program: an update agent for an STM32F429-class
 * board. It receives an otatool package over the console UART in
 * acknowledged frames, streams it through the device verifier
 * (src/device/otaverify.c) and writes the application image into slot B as
 * the verified bytes go by (the verifier checks the signature before the
 * first image byte arrives); once the whole package verified, it writes a
 * trailer that tells the bootloader slot B is ready, and resets. Hashes:
 * sha256.c; signatures: the secure element (se.c), whose slots hold the
 * fleet's public keys.
 *
 * Release variants are macros, so that bench/delta.sh can build the pairs
 * a real project ships: AGENT_VERSION, AGENT_FRAME_TIMEOUT_MS (patch
 * releases), AGENT_SHELL (a feature: a console shell to inspect slots).
 */
#include <stdint.h>
#include <string.h>
#ifdef AGENT_SHELL
#include <stdio.h>
#include <stdlib.h>
#endif

#include "board.h"
#include "otaverify.h"
#include "se.h"
#include "sha256.h"

#ifndef AGENT_VERSION
#define AGENT_VERSION "1.4.2"
#endif
#ifndef AGENT_HARDWARE
#define AGENT_HARDWARE "bench-f429"
#endif
#ifndef AGENT_FRAME_TIMEOUT_MS
#define AGENT_FRAME_TIMEOUT_MS 2000u
#endif
#define AGENT_RETRIES 8u

/* The secure element's slots with fleet keys: current and next. */
static const uint8_t key_slots[] = { 9, 10 };
#define N_KEYS (sizeof(key_slots) / sizeof(key_slots[0]))

/*
 * Frames, host to device: SOH, sequence number, u16 length (1..1024, LE),
 * data, CRC-16/CCITT (LE) over the sequence number, length and data; EOT
 * ends the package. The device answers ACK, NAK (send again) or CAN (the
 * package was refused: stop). A frame repeated because its ACK was lost
 * has the previous sequence number and is acknowledged, not fed again.
 */
#define SOH       0x01u
#define EOT       0x04u
#define ACK       0x06u
#define NAK       0x15u
#define CAN       0x18u
#define FRAME_MAX 1024u

/*
 * Trailer at the end of slot B: the bootloader swaps slots when it finds
 * it, and checks the image against the digest before it boots it.
 */
#define TRAILER_MAGIC 0x4254414fu /* "OATB" */
#define TRAILER_SIZE  64u
#define TRAILER_ADDR  (SLOT_B_ADDR + SLOT_SIZE - TRAILER_SIZE)
struct trailer {
	uint32_t magic;
	uint32_t size;
	uint32_t counter;
	uint32_t reserved;
	uint8_t digest[32];
	uint8_t version[16];
};

/* STM32F4 OTP: one programmed word per step of the rollback counter. */
#define OTP_ADDR  0x1FFF7800u
#define OTP_WORDS 128u

struct agent {
	struct otav v;
	struct sha256 hash;
	uint8_t keyid[N_KEYS][32];
	int key_ok[N_KEYS];
	/* the application image and where its bytes go */
	unsigned app_index;
	int have_app;
	uint64_t app_size;
	uint8_t app_digest[32];
	uint32_t next, written, erased; /* erased: bit per flash sector */
	int flash_err;
	uint8_t stage[256];
	size_t staged;
	uint8_t frame[FRAME_MAX];
};

static struct agent agent;

static void put(const char *s)
{
	uart_write(s, strlen(s));
}

static void put_u32(uint32_t x)
{
	char buf[11];
	int i = 10;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + x % 10u);
		x /= 10u;
	} while (x);
	put(buf + i);
}

static void put_hex(const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		uart_putc(hex[p[i] >> 4]);
		uart_putc(hex[p[i] & 15u]);
	}
}

/* ---- crypto callbacks of the verifier ---- */

static int hash_init(void *ctx, uint8_t alg)
{
	struct agent *a = ctx;

	if (alg != OTAPKG_DIGEST_SHA256)
		return -1; /* the only hash this firmware carries */
	sha256_init(&a->hash);
	return 0;
}

static int hash_update(void *ctx, const uint8_t *data, size_t len)
{
	sha256_update(&((struct agent *)ctx)->hash, data, len);
	return 0;
}

static int hash_final(void *ctx, uint8_t *out)
{
	sha256_final(&((struct agent *)ctx)->hash, out);
	return 0;
}

/* One DER INTEGER of an ECDSA signature into 32 big-endian bytes. */
static int der_int(const uint8_t **p, const uint8_t *end, uint8_t out[32])
{
	const uint8_t *q = *p;
	size_t len;

	if (end - q < 2 || q[0] != 0x02)
		return -1;
	len = q[1];
	q += 2;
	if (len == 0 || len > (size_t)(end - q))
		return -1;
	if (len > 1 && q[0] == 0 && !(q[1] & 0x80u)) /* not minimal */
		return -1;
	if (q[0] & 0x80u) /* negative */
		return -1;
	while (len > 32 && *q == 0)
		q++, len--;
	if (len > 32)
		return -1;
	memset(out, 0, 32 - len);
	memcpy(out + 32 - len, q, len);
	*p = q + len;
	return 0;
}

static int der_to_rs(const uint8_t *der, size_t len, uint8_t rs[64])
{
	const uint8_t *p = der, *end = der + len;

	if (len < 8 || p[0] != 0x30 || p[1] != len - 2u)
		return -1;
	p += 2;
	if (der_int(&p, end, rs) != 0 || der_int(&p, end, rs + 32) != 0)
		return -1;
	return p == end ? 0 : -1;
}

/* 0 valid, 1 a key this device does not hold, -1 invalid */
static int verify(void *ctx, const struct otav_sig *sig, const uint8_t *digest,
		  size_t digest_len)
{
	struct agent *a = ctx;
	uint8_t rs[64];
	int r;

	if (sig->alg != OTAPKG_SIG_ECDSA_P256 || digest_len != 32)
		return 1;
	for (unsigned i = 0; i < N_KEYS; i++) {
		if (!a->key_ok[i] || memcmp(a->keyid[i], sig->keyid, 32) != 0)
			continue;
		if (der_to_rs(sig->sig, sig->len, rs) != 0)
			return -1;
		if (se_wake() != SE_OK)
			return -1;
		r = se_verify_digest(key_slots[i], digest, rs);
		se_sleep();
		return r == SE_OK ? 0 : -1;
	}
	return 1;
}

/* The key id otatool gives a key: SHA-256 of its DER public key. */
static void load_keys(struct agent *a)
{
	static const uint8_t spki_p256[] = {
		0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
		0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
		0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
	};
	uint8_t xy[64];

	for (unsigned i = 0; i < N_KEYS; i++) {
		a->key_ok[i] = se_read_public_key(key_slots[i], xy) == SE_OK;
		if (!a->key_ok[i])
			continue;
		sha256_init(&a->hash);
		sha256_update(&a->hash, spki_p256, sizeof(spki_p256));
		sha256_update(&a->hash, xy, sizeof(xy));
		sha256_final(&a->hash, a->keyid[i]);
	}
}

/* ---- slot B ---- */

static int erase_for(struct agent *a, uint32_t addr)
{
	int s = flash_sector_of(addr);

	if (s < 0)
		return -1;
	if (a->erased & (1u << s))
		return 0;
	if (flash_erase_sector((unsigned)s) != 0)
		return -1;
	a->erased |= 1u << s;
	return 0;
}

/* Programs the staged bytes, erasing each sector before its first word. */
static int program_stage(struct agent *a)
{
	size_t n = (a->staged + 3u) & ~(size_t)3u;

	memset(a->stage + a->staged, 0xFF, n - a->staged);
	if (erase_for(a, a->next) != 0 || erase_for(a, a->next + n - 1u) != 0 ||
	    flash_program(a->next, a->stage, n) != 0)
		return -1;
	a->next += n;
	a->staged = 0;
	return 0;
}

static int slot_write(struct agent *a, const uint8_t *p, size_t n)
{
	if (a->written == 0) {
		/* The old trailer goes first: a half-written slot is never
		 * ready. */
		if (flash_unlock() != 0 || erase_for(a, TRAILER_ADDR) != 0)
			return -1;
		a->next = SLOT_B_ADDR;
	}
	while (n > 0) {
		size_t k = sizeof(a->stage) - a->staged;

		if (k > n)
			k = n;
		memcpy(a->stage + a->staged, p, k);
		a->staged += k;
		a->written += k;
		p += k;
		n -= k;
		if (a->staged == sizeof(a->stage) && program_stage(a) != 0)
			return -1;
	}
	return 0;
}

static uint32_t otp_counter(void)
{
	const volatile uint32_t *otp = (const volatile uint32_t *)OTP_ADDR;
	uint32_t n = 0;

	while (n < OTP_WORDS && otp[n] != 0xFFFFFFFFu)
		n++;
	return n;
}

/* ---- verifier events ---- */

static int on_image(void *ctx, unsigned index, const struct otav_image *img)
{
	struct agent *a = ctx;

	if (img->kind != OTAPKG_KIND_APPLICATION)
		return 0; /* not ours to flash */
	if (a->have_app || img->compression != OTAPKG_COMP_NONE ||
	    img->digest_alg != OTAPKG_DIGEST_SHA256 ||
	    img->size > SLOT_SIZE - TRAILER_SIZE)
		return 1;
	a->have_app = 1;
	a->app_index = index;
	a->app_size = img->size;
	memcpy(a->app_digest, img->digest, 32);
	return 0;
}

static int on_image_data(void *ctx, unsigned index, const uint8_t *data,
			 size_t len)
{
	struct agent *a = ctx;

	if (!a->have_app || index != a->app_index)
		return 0;
	if (slot_write(a, data, len) != 0) {
		a->flash_err = 1;
		return 1;
	}
	return 0;
}

static int on_image_done(void *ctx, unsigned index)
{
	struct agent *a = ctx;

	if (!a->have_app || index != a->app_index || a->staged == 0)
		return 0;
	if (program_stage(a) != 0) {
		a->flash_err = 1;
		return 1;
	}
	return 0;
}

static int write_trailer(struct agent *a, uint32_t counter)
{
	struct trailer t;
	uint8_t buf[TRAILER_SIZE];

	memset(&t, 0, sizeof(t));
	t.magic = TRAILER_MAGIC;
	t.size = (uint32_t)a->app_size;
	t.counter = counter;
	memcpy(t.digest, a->app_digest, 32);
	memcpy(t.version, AGENT_VERSION,
	       sizeof(AGENT_VERSION) < 16 ? sizeof(AGENT_VERSION) : 16);
	memset(buf, 0xFF, sizeof(buf));
	memcpy(buf, &t, sizeof(t));
	return flash_program(TRAILER_ADDR, buf, sizeof(buf));
}

/* ---- transport ---- */

static uint16_t crc16_ccitt(uint16_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (uint16_t)(crc & 0x8000u ? (crc << 1) ^ 0x1021u
						       : (unsigned)crc << 1);
	}
	return crc;
}

/* Frame length, 0 for EOT, -1 on a timeout, -2 for a damaged frame. */
static int recv_frame(uint8_t *seq, uint8_t *data)
{
	uint8_t hdr[3];
	uint16_t len, crc;
	int c;

	do {
		if ((c = uart_getc(AGENT_FRAME_TIMEOUT_MS)) < 0)
			return -1;
	} while (c != SOH && c != EOT);
	if (c == EOT)
		return 0;
	for (int i = 0; i < 3; i++) {
		if ((c = uart_getc(AGENT_FRAME_TIMEOUT_MS)) < 0)
			return -1;
		hdr[i] = (uint8_t)c;
	}
	len = (uint16_t)(hdr[1] | hdr[2] << 8);
	if (len == 0 || len > FRAME_MAX)
		return -2;
	for (uint16_t i = 0; i < len; i++) {
		if ((c = uart_getc(AGENT_FRAME_TIMEOUT_MS)) < 0)
			return -1;
		data[i] = (uint8_t)c;
	}
	crc = crc16_ccitt(crc16_ccitt(0xFFFFu, hdr, 3), data, len);
	for (int i = 0; i < 2; i++) {
		if ((c = uart_getc(AGENT_FRAME_TIMEOUT_MS)) < 0)
			return -1;
		if ((uint8_t)c != (uint8_t)(crc >> (8 * i)))
			return -2;
	}
	*seq = hdr[0];
	return len;
}

static void report(const struct otav *v)
{
	put("update refused: ");
	put(otav_status_name(v->status));
	put(" at byte ");
	put_u32((uint32_t)v->err_offset);
	if (v->err_what != NULL) {
		put(": ");
		put(v->err_what);
	}
	put("\n");
}

/* Receives and verifies one package; resets into it on success. */
static void update(struct agent *a)
{
	/* No encrypted images here: unwrap and the cipher stay NULL. */
	static const struct otav_crypto crypto = {
		.ctx = &agent,
		.hash_init = hash_init,
		.hash_update = hash_update,
		.hash_final = hash_final,
		.verify = verify,
	};
	static const struct otav_events events = {
		.ctx = &agent,
		.image = on_image,
		.image_data = on_image_data,
		.image_done = on_image_done,
	};
	struct otav_policy policy = { .hardware = AGENT_HARDWARE };
	unsigned retries = 0;
	int expect = 0, n;
	uint8_t seq;

	a->have_app = 0;
	a->written = a->erased = 0;
	a->staged = 0;
	a->flash_err = 0;
	policy.check_counter = 1;
	policy.counter = otp_counter();
	otav_init(&a->v, &crypto, &policy, &events);
	for (;;) {
		n = recv_frame(&seq, a->frame);
		if (n == 0)
			break;
		if (n < 0) {
			if (++retries > AGENT_RETRIES) {
				put("update: the host stopped answering\n");
				goto out;
			}
			uart_putc((char)NAK);
			continue;
		}
		retries = 0;
		if (seq == (uint8_t)(expect - 1)) { /* our ACK was lost */
			uart_putc((char)ACK);
			continue;
		}
		if (seq != (uint8_t)expect ||
		    otav_feed(&a->v, a->frame, (size_t)n) != OTAV_OK) {
			uart_putc((char)CAN);
			break;
		}
		expect++;
		uart_putc((char)ACK);
	}
	if (otav_finish(&a->v) != OTAV_OK) {
		if (a->flash_err)
			put("update: flash write failed in slot B\n");
		report(&a->v);
		goto out;
	}
	if (!a->have_app || a->written != a->app_size) {
		put("update: the package has no application image\n");
		goto out;
	}
	if (write_trailer(a, a->v.info.security_counter) != 0) {
		put("update: flash write failed in slot B's trailer\n");
		goto out;
	}
	flash_lock();
	put("update: slot B ready, ");
	put_u32(a->written);
	put(" bytes, sha256 ");
	put_hex(a->app_digest, 32);
	put("; resetting\n");
	board_reset();
out:
	flash_lock();
}

#ifdef AGENT_SHELL
/* ---- console shell (feature AGENT_SHELL) ---- */

static void shell_slot(const char *name, uint32_t base)
{
	const struct trailer *t =
	    (const struct trailer *)(base + SLOT_SIZE - TRAILER_SIZE);
	char line[96];

	if (t->magic != TRAILER_MAGIC) {
		snprintf(line, sizeof(line), "slot %s @ 0x%08lx: no trailer\n",
			 name, (unsigned long)base);
		put(line);
		return;
	}
	snprintf(line, sizeof(line),
		 "slot %s @ 0x%08lx: %lu bytes, version %.16s, counter %lu\n",
		 name, (unsigned long)base, (unsigned long)t->size,
		 (const char *)t->version, (unsigned long)t->counter);
	put(line);
}

static void shell_hash(uint32_t base, unsigned long len)
{
	uint8_t d[32];

	if (len > SLOT_SIZE) {
		put("hash: at most the slot size\n");
		return;
	}
	sha256_init(&agent.hash);
	sha256_update(&agent.hash, (const uint8_t *)base, len);
	sha256_final(&agent.hash, d);
	put_hex(d, sizeof(d));
	put("\n");
}

static void shell_keys(void)
{
	char line[48];

	for (unsigned i = 0; i < N_KEYS; i++) {
		snprintf(line, sizeof(line), "key slot %u: ", key_slots[i]);
		put(line);
		if (agent.key_ok[i])
			put_hex(agent.keyid[i], 32);
		else
			put("unreadable");
		put("\n");
	}
}

static void shell(void)
{
	char line[64];
	size_t n = 0;
	int c;

	put("> ");
	for (;;) {
		if ((c = uart_getc(0)) == SOH) {
			/* a host that sends a frame at the prompt starts an
			 * update */
			put("\nupdate: send the package again\n");
			update(&agent);
			put("> ");
			continue;
		}
		if (c != '\r' && c != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = (char)c;
			continue;
		}
		line[n] = 0;
		n = 0;
		put("\n");
		if (strcmp(line, "version") == 0) {
			put(AGENT_VERSION " " AGENT_HARDWARE "\n");
		} else if (strcmp(line, "slots") == 0) {
			shell_slot("A", SLOT_A_ADDR);
			shell_slot("B", SLOT_B_ADDR);
		} else if (strncmp(line, "hash a ", 7) == 0) {
			shell_hash(SLOT_A_ADDR, strtoul(line + 7, NULL, 0));
		} else if (strncmp(line, "hash b ", 7) == 0) {
			shell_hash(SLOT_B_ADDR, strtoul(line + 7, NULL, 0));
		} else if (strcmp(line, "keys") == 0) {
			shell_keys();
		} else if (strcmp(line, "update") == 0) {
			update(&agent);
		} else if (strcmp(line, "reset") == 0) {
			board_reset();
		} else if (line[0] != 0) {
			put("commands: version, slots, hash a|b LEN, keys, "
			    "update, reset\n");
		}
		put("> ");
	}
}
#endif

int main(void)
{
	board_init();
	i2c_init();
	put("otatool update agent " AGENT_VERSION " (" AGENT_HARDWARE ")\n");
	if (se_wake() != SE_OK)
		put("secure element: no answer; every package will be "
		    "refused\n");
	load_keys(&agent);
	se_sleep();
#ifdef AGENT_SHELL
	shell();
#else
	for (;;) {
		put("ready for a package\n");
		update(&agent);
	}
#endif
}
