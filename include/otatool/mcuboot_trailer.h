/*
 * MCUboot's image trailer (otatool-mcuboot(5), "IMAGE TRAILER"): the
 * metadata at the end of a slot that tells the bootloader whether to swap
 * (boot magic, image_ok, copy_done, swap_info, swap_size, the swap status
 * area). Its size per upgrade mode, the bytes a padded image ends with
 * (imgtool --pad, --confirm, --test), and a reader for inspect.
 */
#ifndef OTATOOL_MCUBOOT_TRAILER_H
#define OTATOOL_MCUBOOT_TRAILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_MCUBOOT_BOOT_MAGIC_LEN    16
#define OTA_MCUBOOT_DEFAULT_SECTORS   128
#define OTA_MCUBOOT_DEFAULT_MAX_ALIGN 8
/* The end of a slot that holds every flag at max_align 32. */
#define OTA_MCUBOOT_TRAILER_TAIL (32 + 4 * 32)

/* How MCUboot is built, as far as the trailer depends on it. */
struct ota_mcuboot_trailer_opts {
	uint32_t align;       /* flash write size 1..32; 0: 1 */
	uint32_t max_align;   /* BOOT_MAX_ALIGN 8, 16 or 32; 0: max(8, align) */
	uint32_t max_sectors; /* BOOT_MAX_IMG_SECTORS; 0: 128 */
	bool overwrite_only;  /* MCUBOOT_OVERWRITE_ONLY: no swap status */
	uint32_t enc_keylen;  /* bytes per slot key (16); 0: not encrypted */
};

/*
 * Checks the options (align a power of two up to 32, max_align 8, 16 or
 * 32 and not below align, max_sectors 1..65536): OTA_EUSAGE naming the
 * value. *max_align gets the effective max_align.
 */
int ota_mcuboot_trailer_check(const struct ota_mcuboot_trailer_opts *o,
			      uint32_t *max_align);

/*
 * The trailer's size in bytes (options as checked above): overwrite-only
 * 2 * max_align + the magic rounded up to max_align; the swap modes
 * max_sectors * 3 * align for the swap status, two content keys each
 * rounded up to max_align when encrypted, four flag fields of max_align,
 * and the magic rounded up to max_align (imgtool 2.4's figures).
 */
uint32_t ota_mcuboot_trailer_size(const struct ota_mcuboot_trailer_opts *o);

/* The 16-byte boot magic for max_align: the classic one at 8, else the
 * u16 max_align (little-endian) and 14 fixed bytes. */
void ota_mcuboot_boot_magic(uint8_t out[OTA_MCUBOOT_BOOT_MAGIC_LEN],
			    uint32_t max_align);

/* Where image_ok's field starts, in bytes before the end of the slot. */
uint32_t ota_mcuboot_image_ok_from_end(uint32_t max_align);

enum ota_mcuboot_magic_state {
	OTA_MCUBOOT_MAGIC_UNSET, /* erased (all 0xff or all 0) */
	OTA_MCUBOOT_MAGIC_GOOD,
	OTA_MCUBOOT_MAGIC_BAD,
};

/* What the end of a slot says. Flags are raw bytes (0x01 set, the
 * erased value unset); they are read only under a good magic. */
struct ota_mcuboot_trailer {
	enum ota_mcuboot_magic_state magic;
	uint32_t max_align; /* from a good magic: 8, 16 or 32, else 0 */
	bool has_flags;     /* the bytes held every flag field */
	uint8_t image_ok, copy_done, swap_info;
	uint32_t swap_size;
	uint8_t erased; /* 0xff, or 0 when the magic area reads all zero */
};

/*
 * Parses the last len bytes of a slot or image (end points at them; len
 * from 16 up to OTA_MCUBOOT_TRAILER_TAIL is enough). Never fails on
 * content: an unknown magic is MAGIC_BAD. len < 16 is OTA_EINPUT.
 */
int ota_mcuboot_trailer_parse(struct ota_mcuboot_trailer *t, const uint8_t *end,
			      size_t len);

/* ota_mcuboot_trailer_parse() on the last bytes of the file path. */
int ota_mcuboot_trailer_read(struct ota_mcuboot_trailer *t, const char *path);

/*
 * What MCUboot does with an image that has this trailer in the secondary
 * slot (design.md, "Image trailers", states II and III): "test" (magic
 * good, image_ok unset), "permanent" (magic good, image_ok 0x01), or
 * "none" (no good magic, or an image_ok that is neither).
 */
const char *ota_mcuboot_trailer_swap_type(const struct ota_mcuboot_trailer *t);

#ifdef __cplusplus
}
#endif
#endif
