/*
 * Driver for the secure element that holds the fleet's signing public
 * keys: an ATECC608-class device on I2C1. The update agent hands it the
 * digest of a package's signed region and an ECDSA P-256 signature; the
 * element says whether the key in a slot made it, so no public key sits
 * in writable flash.
 */
#ifndef SE_H
#define SE_H

#include <stdint.h>

#define SE_I2C_ADDR 0x60 /* 7-bit; 0xC0 on the wire */

enum se_result {
	SE_OK = 0,
	SE_MISMATCH = 1, /* the signature does not verify */
	SE_E_BUS = -1,   /* no answer, or a broken frame */
	SE_E_CRC = -2,   /* the response's CRC is wrong */
	SE_E_STATUS = -3 /* the element reported an error */
};

/* Wakes the element and checks its wake-up answer. */
int se_wake(void);
void se_sleep(void);
/* The P-256 public key (X then Y, 32 bytes each) stored in slot 9..15. */
int se_read_public_key(unsigned slot, uint8_t xy[64]);
/* SE_OK, SE_MISMATCH or an error: does r||s sign digest with slot's key? */
int se_verify_digest(unsigned slot, const uint8_t digest[32],
		     const uint8_t rs[64]);

#endif
