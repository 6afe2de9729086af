/*
 * The otatool package format, versions 1 and 2: constants and layout shared
 * by the
 * host writer (src/lib/package_write.c) and the device-side verifier
 * (otaverify.c). C99, no dependencies. All integers are little-endian.
 * The byte-by-byte specification is otatool-package(5).
 *
 *   [header 64 B][protected TLVs P B][signature block S B]
 *   [zero padding to A][image 0][zero padding to A][image 1]...
 *   (then, optionally, the unprotected region: see the end of this file)
 *
 * The signatures cover H = digest_alg([0, 64 + P)): the header and the
 * protected region. Images are bound by their digests inside the protected
 * region, so a device verifies the signature before reading any payload.
 */
#ifndef OTAPKG_H
#define OTAPKG_H

#include <stdint.h>

#define OTAPKG_MAGIC0 'O'
#define OTAPKG_MAGIC1 'T'
#define OTAPKG_MAGIC2 'A'
#define OTAPKG_MAGIC3 'P'
/*
 * Version 1: every image stored whole (or zlib). Version 2: the same, and
 * at least one image stored as a patch against a base image the device
 * already holds (OTAPKG_COMP_PATCH, OTAPKG_TLV_IMAGE_BASE). A writer uses
 * 2 exactly when a package holds a patch, so that a reader that knows only
 * version 1 refuses such a package rather than misapplies it.
 */
#define OTAPKG_VERSION       1
#define OTAPKG_VERSION_DELTA 2
#define OTAPKG_HEADER_SIZE   64

/*
 * Header, offsets in bytes:
 *   0  u8[4] magic "OTAP"
 *   4  u16   format version (1, or 2 when an image is a patch)
 *   6  u16   header size (64)
 *   8  u8    digest algorithm of the signed region (OTAPKG_DIGEST_*)
 *   9  u8    reserved, 0
 *  10  u16   image count (1..OTAPKG_MAX_IMAGES), = number of IMAGE TLVs
 *  12  u32   flags, 0 (reserved)
 *  16  u32   P: protected region size (multiple of 4, 8..65536)
 *  20  u32   S: signature block size (multiple of 4, 4..OTAPKG_MAX_SIGBLOCK)
 *  24  u32   A: payload alignment (power of two, 16..1048576)
 *  28  u32   reserved, 0
 *  32  u64   total package size in bytes (end of the last image)
 *  40  u8[24] reserved, 0
 * Every reserved field and every padding byte must be zero.
 */
#define OTAPKG_OFF_VERSION     4
#define OTAPKG_OFF_HEADER_SIZE 6
#define OTAPKG_OFF_DIGEST      8
#define OTAPKG_OFF_IMAGE_COUNT 10
#define OTAPKG_OFF_FLAGS       12
#define OTAPKG_OFF_PROTECTED   16
#define OTAPKG_OFF_SIGBLOCK    20
#define OTAPKG_OFF_ALIGN       24
#define OTAPKG_OFF_TOTAL       32

#define OTAPKG_MAX_PROTECTED 65536u
#define OTAPKG_MAX_SIGBLOCK  262144u
#define OTAPKG_MIN_ALIGN     16u
#define OTAPKG_MAX_ALIGN     1048576u
#define OTAPKG_MAX_IMAGES    32u
#define OTAPKG_MAX_SIGS      8u
#define OTAPKG_MAX_SIG_LEN   512u
#define OTAPKG_MAX_CERTS_LEN 65536u /* per signature */
#define OTAPKG_MAX_TLV_VALUE 1024u  /* the verifier buffers one TLV */

enum otapkg_digest {
	OTAPKG_DIGEST_SHA256 = 1,
	OTAPKG_DIGEST_SHA384 = 2,
	OTAPKG_DIGEST_SHA512 = 3, /* image digests only */
};

/*
 * Protected region: TLVs, each u16 type, u16 length, value, then zero
 * padding to a multiple of 4; they fill P exactly, in non-decreasing type
 * order. Types below 0x8000 must be known to the reader; 0x8000 and above
 * are optional and skipped by readers that do not know them.
 */
enum otapkg_tlv {
	OTAPKG_TLV_NAME = 0x0001,             /* text, 1..64 bytes; once */
	OTAPKG_TLV_VERSION = 0x0002,          /* SemVer text, 1..255; once */
	OTAPKG_TLV_SECURITY_COUNTER = 0x0003, /* u32; once */
	OTAPKG_TLV_BOOTLOADER_MIN = 0x0004, /* u32 major, minor, patch; once */
	OTAPKG_TLV_HARDWARE = 0x0005,       /* id text 1..64; 1..64 of them */
	OTAPKG_TLV_GIT_COMMIT = 0x0006, /* 20 or 32 raw bytes; at most once */
	OTAPKG_TLV_BUILD_TIME = 0x0007, /* u64 seconds since the epoch; once */
	OTAPKG_TLV_DEPENDENCY = 0x0008, /* u8 name length, name, range text */
	/*
	 * u64 seconds since the epoch: when the package was signed; chains
	 * of embedded certificates are checked at this time. At most once.
	 */
	OTAPKG_TLV_SIGNING_TIME = 0x0009,
	/*
	 * u8[32] key id, u8[32] SHA-256 of that signature entry's whole
	 * certificates area (the C bytes, length fields and padding
	 * included). Required for every entry with C > 0, at most one per
	 * key id: it binds the certificates into the signed region, so that
	 * not one of their bits can change unnoticed.
	 */
	OTAPKG_TLV_CERTS_DIGEST = 0x000a,
	OTAPKG_TLV_IMAGE = 0x0010, /* see below; image_count of them */
	/*
	 * Version 2 only: the base image a patched image is rebuilt from,
	 * one per image with compression OTAPKG_COMP_PATCH, in image order
	 * (so after every IMAGE TLV):
	 *   0  u8     index of the patched image (its IMAGE TLV's position)
	 *   1  u8[3]  reserved, 0
	 *   4  u64    base size: bytes of the base image
	 *  12  digest of the base image, in the patched image's algorithm
	 */
	OTAPKG_TLV_IMAGE_BASE = 0x0011,
};
#define OTAPKG_IMAGE_BASE_FIXED 12

/*
 * IMAGE value:
 *   0  u8  kind (OTAPKG_KIND_*)
 *   1  u8  compression (OTAPKG_COMP_*)
 *   2  u8  digest algorithm of both digests below (OTAPKG_DIGEST_*)
 *   3  u8  flags: bit 0 load address valid; other bits 0
 *   4  u8  name length (1..64)
 *   5  u8  custom kind length (1..64 when kind is CUSTOM, else 0)
 *   6  u16 reserved, 0
 *   8  u64 offset of the stored bytes from the start of the package
 *  16  u64 stored size (bytes in the package)
 *  24  u64 size (bytes flashed: after decompression)
 *  32  u64 load address (0 when flag bit 0 is clear)
 *  40  digest of the flashed bytes (digest size)
 *  ..  digest of the stored bytes (digest size)
 *  ..  name, then custom kind text
 * Images are laid out in TLV order: the first at align_up(64 + P + S, A),
 * each next at align_up(end of previous, A); the total size is the end of
 * the last. Uncompressed: stored size = size and both digests equal.
 * A patch (OTAPKG_COMP_PATCH, version 2): the stored bytes are an otatool
 * patch (otatool-patch(5)) that rebuilds the image from the base its
 * IMAGE_BASE TLV names; size and digest are those of the rebuilt image.
 */
#define OTAPKG_IMAGE_FIXED 40
enum otapkg_kind {
	OTAPKG_KIND_BOOTLOADER = 1,
	OTAPKG_KIND_APPLICATION = 2,
	OTAPKG_KIND_CONFIG = 3,
	OTAPKG_KIND_FACTORY_RESET = 4,
	OTAPKG_KIND_CUSTOM = 255,
};
enum otapkg_comp {
	OTAPKG_COMP_NONE = 0,
	OTAPKG_COMP_ZLIB = 1,
	OTAPKG_COMP_PATCH = 2, /* otatool-patch(5); format version 2 only */
};

/*
 * Signature block: u16 count (1..OTAPKG_MAX_SIGS), u16 reserved (0), then
 * per signature:
 *   0  u16 algorithm (OTAPKG_SIG_*)
 *   2  u16 signature length (1..512)
 *   4  u32 certificates length C (multiple of 4, 0..65536)
 *   8  u8[32] key id: SHA-256 of the DER SubjectPublicKeyInfo
 *  40  signature, zero padding to a multiple of 4
 *  ..  C bytes of certificates: each u32 DER length, DER, zero padding to
 *      a multiple of 4; signer certificate first
 * After the last entry, zero padding fills S: a writer reserves room for
 * the longest signature each key can make (DER ECDSA varies by a few
 * bytes) before it streams the images, and signs once their digests are
 * known. Each signature is over H, the digest of the
 * signed region: ECDSA (DER) and RSA (PSS: MGF1 with H's hash, salt = H's
 * length) as a signature of a digest made with H's hash; Ed25519 over the
 * bytes of H as its message.
 */
#define OTAPKG_SIG_FIXED 40
enum otapkg_sig_alg {
	OTAPKG_SIG_ECDSA_P256 = 1,
	OTAPKG_SIG_ECDSA_P384 = 2,
	OTAPKG_SIG_RSA_PSS = 3,
	OTAPKG_SIG_RSA_PKCS1 = 4,
	OTAPKG_SIG_ED25519 = 5,
};

/*
 * The unprotected region: entries added to a package after it was signed
 * (timestamps, stapled OCSP responses, root records), each carrying its
 * own proof. It follows the signed package, which still ends at the total
 * size in the header:
 *
 *   [signed package: total bytes][region: U bytes of TLVs][u32 U]["OTAU"]
 *
 * U is a multiple of 4, 8..OTAPKG_MAX_REGION; TLVs as in the protected
 * region (u16 type, u16 length L, value, zero padding to 4), types
 * non-decreasing, filling U exactly, every value at least 4 bytes long and
 * none starting with "OTAU" (that is how a streaming reader tells the
 * footer from a TLV). Readers of packages without a region refuse a file
 * longer than the total size (trailing data), so old readers never
 * misapply it. The signatures do not cover it.
 */
#define OTAPKG_REGION_MAGIC0 'O'
#define OTAPKG_REGION_MAGIC1 'T'
#define OTAPKG_REGION_MAGIC2 'A'
#define OTAPKG_REGION_MAGIC3 'U'
#define OTAPKG_REGION_FOOTER 8u
#define OTAPKG_MAX_REGION    1048576u
#define OTAPKG_REGION_FIXED  4u /* TIMESTAMP and OCSP: indexes, reserved */
enum otapkg_region_tlv {
	/*
	 * u8 signature index, u8[3] reserved 0, then a DER RFC 3161
	 * TimeStampToken whose messageImprint is the SHA-256 of that
	 * signature entry's signature bytes. At most one per signature: in
	 * increasing signature index.
	 */
	OTAPKG_REGION_TIMESTAMP = 0x8001,
	/*
	 * u8 signature index, u8 certificate index in that entry's
	 * certificates area (0: the signer's), u8[2] reserved 0, then a DER
	 * OCSPResponse for that certificate. In increasing (signature,
	 * certificate) order, at most one per pair.
	 */
	OTAPKG_REGION_OCSP = 0x8002,
	/* One complete signed root record (otatool-root(5)). */
	OTAPKG_REGION_ROOT_RECORD = 0x8010,
};

#endif
