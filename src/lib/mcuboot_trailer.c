/*
 * MCUboot's image trailer (man/otatool-mcuboot.5, "IMAGE TRAILER"): its
 * size per mode, its magic per max_align, and a reader. Facts from
 * MCUboot's docs/design.md and imgtool 2.4's padding; the writer that
 * pads a slot is ota_mcuboot_write().
 */
#include "otatool/mcuboot_trailer.h"
#include "otatool/error.h"
#include "otatool/fileio.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

static const uint8_t magic_v1[OTA_MCUBOOT_BOOT_MAGIC_LEN] = {
	0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
	0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
};

/* After a u16 max_align, for max_align 16 and 32. */
static const uint8_t magic_v2_tail[OTA_MCUBOOT_BOOT_MAGIC_LEN - 2] = {
	0x2d, 0xe1, 0x5d, 0x29, 0x41, 0x0b, 0x8d,
	0x77, 0x67, 0x9c, 0x11, 0x0f, 0x1f, 0x8a,
};

static uint32_t align_up(uint32_t n, uint32_t a)
{
	return (n + a - 1) & ~(a - 1);
}

static uint32_t eff_max_align(const struct ota_mcuboot_trailer_opts *o)
{
	uint32_t align = o->align ? o->align : 1;

	if (o->max_align)
		return o->max_align;
	return align > OTA_MCUBOOT_DEFAULT_MAX_ALIGN
		   ? align
		   : OTA_MCUBOOT_DEFAULT_MAX_ALIGN;
}

int ota_mcuboot_trailer_check(const struct ota_mcuboot_trailer_opts *o,
			      uint32_t *max_align)
{
	uint32_t align = o->align ? o->align : 1, ma = eff_max_align(o);

	if (align > 32 || (align & (align - 1)))
		return ota_error(
		    OTA_EUSAGE,
		    "write alignment %" PRIu32 ": 1, 2, 4, 8, 16 or 32", align);
	if (ma != 8 && ma != 16 && ma != 32)
		return ota_error(OTA_EUSAGE,
				 "max-align %" PRIu32 ": 8, 16 or 32", ma);
	if (ma < align)
		return ota_error(OTA_EUSAGE,
				 "max-align %" PRIu32
				 " is below the write alignment %" PRIu32
				 " (MCUboot's BOOT_MAX_ALIGN is the largest "
				 "write size of both slots)",
				 ma, align);
	if (o->max_sectors > 65536)
		return ota_error(OTA_EUSAGE,
				 "max-sectors %" PRIu32 ": at most 65536",
				 o->max_sectors);
	if (max_align)
		*max_align = ma;
	return 0;
}

uint32_t ota_mcuboot_trailer_size(const struct ota_mcuboot_trailer_opts *o)
{
	uint32_t align = o->align ? o->align : 1, ma = eff_max_align(o);
	uint32_t sectors =
	    o->max_sectors ? o->max_sectors : OTA_MCUBOOT_DEFAULT_SECTORS;
	uint32_t magic = align_up(OTA_MCUBOOT_BOOT_MAGIC_LEN, ma);

	if (o->overwrite_only)
		return 2 * ma + magic;
	return sectors * 3 * align +
	       (o->enc_keylen ? 2 * align_up(o->enc_keylen, ma) : 0) + 4 * ma +
	       magic;
}

void ota_mcuboot_boot_magic(uint8_t out[OTA_MCUBOOT_BOOT_MAGIC_LEN],
			    uint32_t max_align)
{
	if (max_align == OTA_MCUBOOT_DEFAULT_MAX_ALIGN) {
		memcpy(out, magic_v1, sizeof(magic_v1));
		return;
	}
	out[0] = (uint8_t)max_align;
	out[1] = (uint8_t)(max_align >> 8);
	memcpy(out + 2, magic_v2_tail, sizeof(magic_v2_tail));
}

uint32_t ota_mcuboot_image_ok_from_end(uint32_t max_align)
{
	return align_up(OTA_MCUBOOT_BOOT_MAGIC_LEN, max_align) + max_align;
}

static bool all_equal(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

int ota_mcuboot_trailer_parse(struct ota_mcuboot_trailer *t, const uint8_t *end,
			      size_t len)
{
	const uint8_t *m = end + len - OTA_MCUBOOT_BOOT_MAGIC_LEN;
	uint32_t ma, ok;

	memset(t, 0, sizeof(*t));
	t->image_ok = t->copy_done = t->swap_info = 0xff;
	t->swap_size = UINT32_MAX;
	t->erased = 0xff;
	if (len < OTA_MCUBOOT_BOOT_MAGIC_LEN)
		return ota_error(OTA_EINPUT,
				 "%zu bytes: an image trailer ends with a "
				 "%d-byte magic",
				 len, OTA_MCUBOOT_BOOT_MAGIC_LEN);
	if (memcmp(m, magic_v1, sizeof(magic_v1)) == 0)
		ma = 8;
	else if ((m[0] == 16 || m[0] == 32) && m[1] == 0 &&
		 memcmp(m + 2, magic_v2_tail, sizeof(magic_v2_tail)) == 0)
		ma = m[0];
	else {
		if (all_equal(m, OTA_MCUBOOT_BOOT_MAGIC_LEN, 0xff))
			t->magic = OTA_MCUBOOT_MAGIC_UNSET;
		else if (all_equal(m, OTA_MCUBOOT_BOOT_MAGIC_LEN, 0)) {
			t->magic = OTA_MCUBOOT_MAGIC_UNSET;
			t->erased = 0;
		} else
			t->magic = OTA_MCUBOOT_MAGIC_BAD;
		return 0;
	}
	t->magic = OTA_MCUBOOT_MAGIC_GOOD;
	t->max_align = ma;
	ok = ota_mcuboot_image_ok_from_end(ma);
	if (len < ok + 3 * ma)
		return 0;
	t->has_flags = true;
	/* image_ok's padding shows the erased value. */
	if (all_equal(end + len - ok + 1, ma - 1, 0))
		t->erased = 0;
	t->image_ok = end[len - ok];
	t->copy_done = end[len - ok - ma];
	t->swap_info = end[len - ok - 2 * ma];
	m = end + len - ok - 3 * ma;
	t->swap_size = (uint32_t)m[0] | (uint32_t)m[1] << 8 |
		       (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
	return 0;
}

int ota_mcuboot_trailer_read(struct ota_mcuboot_trailer *t, const char *path)
{
	uint8_t tail[OTA_MCUBOOT_TRAILER_TAIL];
	uint64_t size;
	size_t want;
	ssize_t n;
	int fd, rc;

	if ((rc = ota_file_open_regular(&fd, &size, path)))
		return rc;
	want = size < sizeof(tail) ? (size_t)size : sizeof(tail);
	do
		n = pread(fd, tail, want, (off_t)(size - want));
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n != (ssize_t)want)
		return ota_error(OTA_EINPUT,
				 "%s: cannot read its last %zu "
				 "bytes",
				 path, want);
	if ((rc = ota_mcuboot_trailer_parse(t, tail, want)))
		return ota_error_wrap(rc, "%s", path);
	return 0;
}

const char *ota_mcuboot_trailer_swap_type(const struct ota_mcuboot_trailer *t)
{
	if (t->magic != OTA_MCUBOOT_MAGIC_GOOD || !t->has_flags)
		return "none";
	if (t->image_ok == 0x01)
		return "permanent";
	if (t->image_ok == t->erased)
		return "test";
	return "none";
}
