/*
 * Unit tests for src/lib/mcuboot_trailer.c: trailer sizes per mode against
 * the figures imgtool 2.4 prints for the same options ("Image size ... +
 * trailer (0x...)"), the magic per max_align from MCUboot's docs, and the
 * reader on hand-built slot ends.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "otatool/error.h"
#include "otatool/mcuboot_trailer.h"
#include "tmpdir.h"

static uint32_t size_of(uint32_t align, uint32_t max_align, uint32_t sectors,
			bool overwrite, uint32_t keylen)
{
	struct ota_mcuboot_trailer_opts o = { align, max_align, sectors,
					      overwrite, keylen };

	cr_assert_eq(ota_mcuboot_trailer_check(&o, NULL), 0, "%s",
		     ota_error_message());
	return ota_mcuboot_trailer_size(&o);
}

Test(mcuboot_trailer, sizes)
{
	/* 128 sectors x 3 x 8 + 4 x 8 + 16 = 0xc30. */
	cr_assert_eq(size_of(8, 0, 0, false, 0), 0xc30);
	/* imgtool's default --align 1: 384 + 32 + 16. */
	cr_assert_eq(size_of(1, 0, 0, false, 0), 0x1b0);
	/* max-align 32: flags and magic grow, the status does not. */
	cr_assert_eq(size_of(8, 32, 0, false, 0), 3072 + 128 + 32);
	cr_assert_eq(size_of(16, 0, 0, false, 0), 128 * 48 + 64 + 16);
	cr_assert_eq(size_of(8, 0, 16, false, 0), 16 * 24 + 32 + 16);
	/* Two content keys, each rounded up to max_align. */
	cr_assert_eq(size_of(8, 0, 0, false, 16), 0xc30 + 32);
	cr_assert_eq(size_of(8, 32, 0, false, 16), 3232 + 64);
	/* Overwrite-only: two flags and the magic, nothing else. */
	cr_assert_eq(size_of(8, 0, 0, true, 16), 32);
	cr_assert_eq(size_of(32, 0, 0, true, 0), 96);
}

Test(mcuboot_trailer, bad_options)
{
	struct ota_mcuboot_trailer_opts o = { .align = 3 };
	uint32_t ma = 0;

	cr_assert_eq(ota_mcuboot_trailer_check(&o, &ma), OTA_EUSAGE);
	o.align = 64;
	cr_assert_eq(ota_mcuboot_trailer_check(&o, &ma), OTA_EUSAGE);
	o.align = 16;
	o.max_align = 8;
	cr_assert_eq(ota_mcuboot_trailer_check(&o, &ma), OTA_EUSAGE);
	cr_assert(strstr(ota_error_message(), "below the write alignment"));
	o.max_align = 12;
	cr_assert_eq(ota_mcuboot_trailer_check(&o, &ma), OTA_EUSAGE);
	o.max_align = 0;
	o.max_sectors = 70000;
	cr_assert_eq(ota_mcuboot_trailer_check(&o, &ma), OTA_EUSAGE);
	o.max_sectors = 0;
	cr_assert_eq(ota_mcuboot_trailer_check(&o, &ma), 0);
	cr_assert_eq(ma, 16, "max_align follows a write size above 8");
}

static const uint8_t magic8[16] = { 0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2,
				    0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f,
				    0x2c, 0xb6, 0x79, 0x80 };
static const uint8_t magic32[16] = { 0x20, 0x00, 0x2d, 0xe1, 0x5d, 0x29,
				     0x41, 0x0b, 0x8d, 0x77, 0x67, 0x9c,
				     0x11, 0x0f, 0x1f, 0x8a };

Test(mcuboot_trailer, magic)
{
	uint8_t m[16];

	ota_mcuboot_boot_magic(m, 8);
	cr_assert_eq(memcmp(m, magic8, 16), 0);
	ota_mcuboot_boot_magic(m, 32);
	cr_assert_eq(memcmp(m, magic32, 16), 0);
	ota_mcuboot_boot_magic(m, 16);
	cr_assert_eq(m[0], 16);
	cr_assert_eq(memcmp(m + 1, magic32 + 1, 15), 0);
	cr_assert_eq(ota_mcuboot_image_ok_from_end(8), 24);
	cr_assert_eq(ota_mcuboot_image_ok_from_end(16), 32);
	cr_assert_eq(ota_mcuboot_image_ok_from_end(32), 64);
}

/* The end of a slot, erased to e, with magic for max_align ma. */
static void slot_end(uint8_t *end, size_t len, uint8_t e, uint32_t ma)
{
	memset(end, e, len);
	if (ma == 8)
		memcpy(end + len - 16, magic8, 16);
	else {
		memcpy(end + len - 16, magic32, 16);
		end[len - 16] = (uint8_t)ma;
	}
}

Test(mcuboot_trailer, parse_states)
{
	uint8_t end[OTA_MCUBOOT_TRAILER_TAIL];
	struct ota_mcuboot_trailer t;
	size_t L = sizeof(end);

	slot_end(end, L, 0xff, 8);
	cr_assert_eq(ota_mcuboot_trailer_parse(&t, end, L), 0);
	cr_assert_eq(t.magic, OTA_MCUBOOT_MAGIC_GOOD);
	cr_assert_eq(t.max_align, 8);
	cr_assert(t.has_flags);
	cr_assert_eq(t.image_ok, 0xff);
	cr_assert_str_eq(ota_mcuboot_trailer_swap_type(&t), "test");

	end[L - 24] = 0x01; /* image_ok */
	end[L - 32] = 0x01; /* copy_done */
	end[L - 40] = 0x13; /* swap_info: image 1, type 3 */
	end[L - 48] = 0x00; /* swap_size 0x00010000 */
	end[L - 47] = 0x00;
	end[L - 46] = 0x01;
	end[L - 45] = 0x00;
	cr_assert_eq(ota_mcuboot_trailer_parse(&t, end, L), 0);
	cr_assert_eq(t.image_ok, 0x01);
	cr_assert_eq(t.copy_done, 0x01);
	cr_assert_eq(t.swap_info, 0x13);
	cr_assert_eq(t.swap_size, 0x10000u);
	cr_assert_str_eq(ota_mcuboot_trailer_swap_type(&t), "permanent");

	end[L - 24] = 0x42; /* neither set nor erased */
	cr_assert_eq(ota_mcuboot_trailer_parse(&t, end, L), 0);
	cr_assert_str_eq(ota_mcuboot_trailer_swap_type(&t), "none");

	memset(end, 0xff, L);
	cr_assert_eq(ota_mcuboot_trailer_parse(&t, end, L), 0);
	cr_assert_eq(t.magic, OTA_MCUBOOT_MAGIC_UNSET);
	cr_assert_str_eq(ota_mcuboot_trailer_swap_type(&t), "none");

	memset(end, 0, L);
	cr_assert_eq(ota_mcuboot_trailer_parse(&t, end, L), 0);
	cr_assert_eq(t.magic, OTA_MCUBOOT_MAGIC_UNSET);
	cr_assert_eq(t.erased, 0);

	slot_end(end, L, 0xff, 8);
	end[L - 1] ^= 1;
	cr_assert_eq(ota_mcuboot_trailer_parse(&t, end, L), 0);
	cr_assert_eq(t.magic, OTA_MCUBOOT_MAGIC_BAD);
	/* A max_align the format does not have. */
	slot_end(end, L, 0xff, 32);
	end[L - 16] = 64;
	cr_assert_eq(ota_mcuboot_trailer_parse(&t, end, L), 0);
	cr_assert_eq(t.magic, OTA_MCUBOOT_MAGIC_BAD);
}

Test(mcuboot_trailer, parse_max_align_32_erased_0)
{
	uint8_t end[OTA_MCUBOOT_TRAILER_TAIL];
	struct ota_mcuboot_trailer t;
	size_t L = sizeof(end);

	slot_end(end, L, 0, 32);
	cr_assert_eq(ota_mcuboot_trailer_parse(&t, end, L), 0);
	cr_assert_eq(t.magic, OTA_MCUBOOT_MAGIC_GOOD);
	cr_assert_eq(t.max_align, 32);
	cr_assert_eq(t.erased, 0);
	cr_assert_str_eq(ota_mcuboot_trailer_swap_type(&t), "test");
	end[L - 64] = 1;
	cr_assert_eq(ota_mcuboot_trailer_parse(&t, end, L), 0);
	cr_assert_eq(t.image_ok, 1);
	cr_assert_str_eq(ota_mcuboot_trailer_swap_type(&t), "permanent");
}

Test(mcuboot_trailer, short_input)
{
	uint8_t end[20];
	struct ota_mcuboot_trailer t;

	slot_end(end, sizeof(end), 0xff, 8);
	cr_assert_eq(ota_mcuboot_trailer_parse(&t, end, sizeof(end)), 0);
	cr_assert_eq(t.magic, OTA_MCUBOOT_MAGIC_GOOD);
	cr_assert_not(t.has_flags);
	cr_assert_str_eq(ota_mcuboot_trailer_swap_type(&t), "none");
	cr_assert_eq(ota_mcuboot_trailer_parse(&t, end, 15), OTA_EINPUT);
}

Test(mcuboot_trailer, read_file)
{
	uint8_t slot[4096];
	struct ota_mcuboot_trailer t;
	char dir[4096], path[4200];
	FILE *f;

	tmpdir_make(dir, sizeof(dir), "trailer");
	snprintf(path, sizeof(path), "%s/slot.bin", dir);
	slot_end(slot, sizeof(slot), 0xff, 16);
	slot[sizeof(slot) - 32] = 1;
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(slot, 1, sizeof(slot), f), sizeof(slot));
	fclose(f);
	cr_assert_eq(ota_mcuboot_trailer_read(&t, path), 0, "%s",
		     ota_error_message());
	cr_assert_eq(t.max_align, 16);
	cr_assert_str_eq(ota_mcuboot_trailer_swap_type(&t), "permanent");
	tmpdir_remove(dir);
}
