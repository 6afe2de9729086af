/*
 * The device's delta flow, src/device/otaverify.c and otapatch.c together,
 * as otatool-package(5) describes it for a bootloader: the package's
 * signature verified before a byte of patch is read, the base refused
 * before anything is erased or written when it is not the one the signed
 * region names, the rebuilt image hashed as it is written and compared
 * with the target digest. On a simulated flash (a base slot that must
 * never change, a target slot with NOR semantics), with a power cut at
 * every write and both a restart and a resume afterwards. Also the
 * verifier's refusals of malformed IMAGE_BASE TLVs, and the RAM of
 * verifier and applier together.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "otapatch.h"
#include "otatool/delta.h"
#include "otaverify.h"
#include "pkgbuild.h"

/* ---- fixture: a base, a target, the patch between them, a package */

#define BASE_LEN   20000u
#define TARGET_LEN 21000u
#define SECTOR     4096u
#define SLOT       (8u * SECTOR)

static uint8_t base[BASE_LEN], target[TARGET_LEN], config[300];

struct blob {
	uint8_t *p;
	size_t len, cap;
};

static int blob_write(void *ctx, const uint8_t *data, size_t len)
{
	struct blob *b = ctx;

	if (b->cap - b->len < len) {
		b->cap = (b->len + len) * 2;
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(p, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

/*
 * Code-like images: the target is the base with a shifted middle, some
 * changed words and a new tail, so that the patch uses every record kind.
 */
static void make_images(void)
{
	uint32_t x = 2024;

	for (size_t i = 0; i < BASE_LEN; i++) {
		x = x * 1103515245u + 12345u;
		base[i] = (i % 4 == 3) ? (uint8_t)(x >> 24) : (uint8_t)(i % 53);
	}
	memcpy(target, base, 6000);
	memcpy(target + 6000, base + 6100, 9000);
	for (size_t i = 3000; i < 15000; i += 97)
		target[i] ^= 0x11;
	for (size_t i = 15000; i < TARGET_LEN; i++)
		target[i] = (uint8_t)(i * 7 + (i >> 5));
	for (size_t i = 0; i < sizeof(config); i++)
		config[i] = (uint8_t)(i ^ 0x5a);
}

/* The patch, made by otatool's encoder with 4 KiB blocks (5 of them). */
static struct blob make_patch(void)
{
	char dir[] = "/tmp/otatool-otadelta-XXXXXX", b[64], t[64];
	struct ota_delta_params params;
	struct blob out = { 0 };

	cr_assert_not_null(mkdtemp(dir));
	snprintf(b, sizeof(b), "%s/base", dir);
	snprintf(t, sizeof(t), "%s/target", dir);
	write_file(b, base, BASE_LEN);
	write_file(t, target, TARGET_LEN);
	ota_delta_params_default(&params);
	params.block_size = SECTOR;
	cr_assert_eq(ota_delta_encode(&params, b, t, blob_write, &out, NULL),
		     0);
	unlink(b);
	unlink(t);
	rmdir(dir);
	cr_assert_gt(out.len, 40);
	cr_assert_lt(out.len, TARGET_LEN / 2, "patch of %zu bytes", out.len);
	return out;
}

struct fx {
	EVP_PKEY *key;
	struct pkgb_crypto c;
	struct pkgb_desc d;
	struct pkgb_pkg pkg;
	struct blob patch;
};

/* Two images: "cfg" stored whole, then "app" as a patch against base. */
static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	cr_assert_not_null(f);
	make_images();
	f->patch = make_patch();
	f->key = pkgb_key(OTAPKG_SIG_ECDSA_P256);
	pkgb_crypto_init(&f->c);
	pkgb_crypto_trust(&f->c, f->key);
	f->d.counter = 3;
	f->d.n_images = 2;
	f->d.images[0].kind = OTAPKG_KIND_CONFIG;
	f->d.images[0].name = "cfg";
	f->d.images[0].data = config;
	f->d.images[0].len = sizeof(config);
	f->d.images[1].name = "app";
	f->d.images[1].data = target;
	f->d.images[1].len = TARGET_LEN;
	f->d.images[1].patch = f->patch.p;
	f->d.images[1].patch_len = f->patch.len;
	f->d.images[1].base = base;
	f->d.images[1].base_len = BASE_LEN;
	f->d.n_signers = 1;
	f->d.signers[0].key = f->key;
	f->d.align = 64;
	pkgb_build(&f->pkg, &f->d);
	return f;
}

static void fx_free(struct fx *f)
{
	pkgb_free(&f->pkg);
	pkgb_crypto_free(&f->c);
	EVP_PKEY_free(f->key);
	free(f->patch.p);
	free(f);
}

/* ---- the device: two flash slots, the reference flow's callbacks */

struct device {
	/* the base slot: the installed image, and a copy to compare with */
	uint8_t base_slot[BASE_LEN], base_copy[BASE_LEN];
	size_t base_len;
	/* the target slot, NOR flash: erased to 0xff, written once */
	uint8_t slot[SLOT];
	uint8_t erased[SLOT / SECTOR];
	unsigned writes, erases;
	unsigned power_at; /* this write loses power halfway; 0: never */
	int cut;
	/* kept in "flash" across a power cut: where to resume */
	uint32_t resume_block;
	uint64_t resume_offset;
	int use_resume;
	/* the flow */
	struct otav v;
	struct otap p;
	struct otap_io io;
	struct otav_events ev;
	const struct otav_info *info;
	unsigned patch_index; /* the patched image: ~0u none */
	int authentic;        /* the signature verified */
	unsigned data_before_authentic;
	EVP_MD_CTX *target_md; /* a second hash: the verifier's is busy */
	int rebuilt_ok;
	char why[128];
};

static int d_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
	struct device *dv = ctx;

	cr_assert(off < dv->base_len && len <= dv->base_len - off);
	memcpy(buf, dv->base_slot + off, len);
	return 0;
}

static int d_erase(void *ctx, uint64_t off, uint32_t len)
{
	struct device *dv = ctx;

	cr_assert(dv->authentic, "erase before the signature verified");
	cr_assert_eq(off % SECTOR, 0);
	cr_assert(off + len <= SLOT);
	memset(dv->slot + off, 0xff, len);
	for (uint64_t s = off / SECTOR; s * SECTOR < off + len; s++)
		dv->erased[s] = 1;
	dv->erases++;
	return 0;
}

static int d_write(void *ctx, uint64_t off, const uint8_t *data, size_t len)
{
	struct device *dv = ctx;

	cr_assert(!dv->cut, "write after the power was cut");
	cr_assert(dv->authentic, "write before the signature verified");
	cr_assert(off + len <= SLOT);
	for (size_t i = 0; i < len; i++) {
		cr_assert(dv->erased[(off + i) / SECTOR], "write not erased");
		cr_assert_eq(dv->slot[off + i], 0xff, "write over data");
	}
	if (++dv->writes == dv->power_at) {
		memcpy(dv->slot + off, data, len / 2);
		dv->cut = 1;
		return -1;
	}
	memcpy(dv->slot + off, data, len);
	return 0;
}

static int d_hash(void *ctx, const uint8_t *data, size_t len)
{
	struct device *dv = ctx;

	return EVP_DigestUpdate(dv->target_md, data, len) == 1 ? 0 : -1;
}

/* The patch's own header must agree with what the signed region says. */
static int d_header(void *ctx, const struct otap_header *h)
{
	struct device *dv = ctx;
	const struct otav_image *img = &dv->info->images[dv->patch_index];

	if (h->base_size != img->base_size || h->target_size != img->size ||
	    h->target_size > SLOT) {
		snprintf(dv->why, sizeof(dv->why), "patch header disagrees");
		return 1;
	}
	return 0;
}

static int d_block_done(void *ctx, uint32_t index, uint64_t next)
{
	struct device *dv = ctx;

	/* recorded after the block's writes: a resume starts after it */
	dv->resume_block = index + 1;
	dv->resume_offset = next;
	return 0;
}

/*
 * Signature verified, no payload read yet: the device checks that it
 * holds the base each patch names (size, then its digest) before it
 * erases or writes anything, and sets the applier up.
 */
static int e_authentic(void *ctx, const struct otav_info *info)
{
	struct device *dv = ctx;
	uint8_t d[64];
	unsigned int n;

	dv->authentic = 1;
	dv->info = info;
	dv->patch_index = ~0u;
	for (unsigned i = 0; i < info->image_count; i++) {
		const struct otav_image *img = &info->images[i];
		EVP_MD_CTX *md;

		if (img->compression != OTAPKG_COMP_PATCH)
			continue;
		cr_assert(img->has_base);
		if (img->base_size != dv->base_len) {
			snprintf(dv->why, sizeof(dv->why), "base size");
			return 1;
		}
		md = EVP_MD_CTX_new();
		cr_assert(md && EVP_DigestInit_ex(md, EVP_sha256(), NULL));
		EVP_DigestUpdate(md, dv->base_slot, dv->base_len);
		EVP_DigestFinal_ex(md, d, &n);
		EVP_MD_CTX_free(md);
		if (memcmp(d, img->base_digest, n) != 0) {
			snprintf(dv->why, sizeof(dv->why), "base digest");
			return 1;
		}
		dv->patch_index = i;
	}
	if (dv->patch_index == ~0u)
		return 0;
	otap_init(&dv->p, &dv->io);
	cr_assert(EVP_DigestInit_ex(dv->target_md, EVP_sha256(), NULL));
	if (dv->use_resume && dv->resume_block > 0) {
		/* the blocks already written are hashed from the slot */
		EVP_DigestUpdate(dv->target_md, dv->slot,
				 (size_t)dv->resume_block * SECTOR);
		if (otap_resume(&dv->p, dv->resume_block, dv->resume_offset) !=
		    OTAP_OK)
			return 1;
	}
	return 0;
}

static int e_image_data(void *ctx, unsigned index, const uint8_t *data,
			size_t len)
{
	struct device *dv = ctx;

	if (!dv->authentic)
		dv->data_before_authentic++;
	if (index != dv->patch_index)
		return 0; /* a whole image would be copied into its slot */
	return otap_feed(&dv->p, data, len) == OTAP_OK ? 0 : 1;
}

/* The stored digest matched; a patch must also rebuild the target. */
static int e_image_done(void *ctx, unsigned index)
{
	struct device *dv = ctx;
	const struct otav_image *img = &dv->info->images[index];
	uint8_t d[64];
	unsigned int n;

	if (index != dv->patch_index)
		return 0;
	if (otap_finish(&dv->p) != OTAP_OK)
		return 1;
	EVP_DigestFinal_ex(dv->target_md, d, &n);
	if (memcmp(d, img->digest, n) != 0) {
		snprintf(dv->why, sizeof(dv->why), "target digest");
		return 1;
	}
	dv->rebuilt_ok = 1;
	return 0;
}

static struct device *device_new(void)
{
	struct device *dv = calloc(1, sizeof(*dv));

	cr_assert_not_null(dv);
	memcpy(dv->base_slot, base, BASE_LEN);
	memcpy(dv->base_copy, base, BASE_LEN);
	dv->base_len = BASE_LEN;
	memset(dv->slot, 0x5a, SLOT); /* whatever was there before */
	dv->target_md = EVP_MD_CTX_new();
	cr_assert_not_null(dv->target_md);
	dv->io = (struct otap_io){ dv,     d_read,   d_erase,     d_write,
				   d_hash, d_header, d_block_done };
	dv->ev.ctx = dv;
	dv->ev.authentic = e_authentic;
	dv->ev.image_data = e_image_data;
	dv->ev.image_done = e_image_done;
	return dv;
}

static void device_free(struct device *dv)
{
	EVP_MD_CTX_free(dv->target_md);
	free(dv);
}

/* A boot: the whole package from its first byte, in chunks of 512. */
static enum otav_status device_boot(struct device *dv, const struct fx *f,
				    const uint8_t *pkg, size_t len)
{
	static const struct otav_policy policy = { .hardware = "board-a" };

	dv->authentic = 0;
	dv->rebuilt_ok = 0;
	dv->cut = 0;
	dv->why[0] = '\0';
	otav_init(&dv->v, &f->c.ops, &policy, &dv->ev);
	for (size_t i = 0; i < len; i += 512)
		if (otav_feed(&dv->v, pkg + i, len - i < 512 ? len - i : 512) !=
		    OTAV_OK)
			break;
	return otav_finish(&dv->v);
}

static void assert_base_intact(const struct device *dv)
{
	cr_assert_eq(memcmp(dv->base_slot, dv->base_copy, BASE_LEN), 0,
		     "the base slot changed");
}

TestSuite(otadelta);

Test(otadelta, rebuilds_the_target)
{
	struct fx *f = fx_new();
	struct device *dv = device_new();
	enum otav_status st = device_boot(dv, f, f->pkg.data, f->pkg.len);

	cr_assert_eq(st, OTAV_OK, "%s at %" PRIu64 ": %s (%s)",
		     otav_status_name(st), dv->v.err_offset,
		     dv->v.err_what ? dv->v.err_what : "-", dv->why);
	cr_assert_eq(dv->v.info.format_version, 2);
	cr_assert_eq(f->pkg.data[4], 2, "a package with a patch is version 2");
	cr_assert(dv->rebuilt_ok);
	cr_assert_eq(dv->data_before_authentic, 0);
	cr_assert_eq(memcmp(dv->slot, target, TARGET_LEN), 0);
	cr_assert_eq(dv->erases, 6); /* ceil(21000 / 4096) blocks */
	assert_base_intact(dv);
	/* what the verifier reports of the patched image */
	const struct otav_image *img = &dv->v.info.images[1];
	cr_assert_eq(img->compression, OTAPKG_COMP_PATCH);
	cr_assert_eq(img->base_size, BASE_LEN);
	cr_assert_eq(img->size, TARGET_LEN);
	cr_assert_eq(img->stored_size, f->patch.len);
	cr_assert_not(dv->v.info.images[0].has_base);
	device_free(dv);
	fx_free(f);
}

Test(otadelta, no_patch_byte_before_the_signature)
{
	struct fx *f = fx_new();
	struct device *dv = device_new();

	/* signed by a key the device does not trust */
	pkgb_free(&f->pkg);
	f->d.signers[0].key = pkgb_key(OTAPKG_SIG_ECDSA_P256);
	pkgb_build(&f->pkg, &f->d);
	cr_assert_eq(device_boot(dv, f, f->pkg.data, f->pkg.len),
		     OTAV_E_SIGNATURE);
	cr_assert_eq(dv->erases + dv->writes, 0);
	cr_assert_eq(dv->data_before_authentic, 0);
	cr_assert_not(dv->authentic);
	assert_base_intact(dv);
	EVP_PKEY_free(f->d.signers[0].key);
	device_free(dv);
	fx_free(f);
}

Test(otadelta, wrong_base_refused_before_any_write)
{
	struct fx *f = fx_new();
	struct device *dv = device_new();

	dv->base_slot[1234] ^= 1; /* another build of the same size */
	memcpy(dv->base_copy, dv->base_slot, BASE_LEN);
	cr_assert_eq(device_boot(dv, f, f->pkg.data, f->pkg.len),
		     OTAV_E_ABORTED);
	cr_assert_str_eq(dv->why, "base digest");
	cr_assert_eq(dv->erases + dv->writes, 0);
	assert_base_intact(dv);
	/* a base of another size: refused on its size alone */
	dv->base_len = BASE_LEN - 1;
	cr_assert_eq(device_boot(dv, f, f->pkg.data, f->pkg.len),
		     OTAV_E_ABORTED);
	cr_assert_str_eq(dv->why, "base size");
	cr_assert_eq(dv->erases + dv->writes, 0);
	device_free(dv);
	fx_free(f);
}

Test(otadelta, tampered_patch_never_marked_good)
{
	struct fx *f = fx_new();
	size_t at = f->pkg.image_off[1] + f->patch.len / 2;

	/* a flipped patch byte: the stored digest fails at the image's end */
	for (unsigned bit = 0; bit < 8; bit++) {
		struct device *dv = device_new();

		f->pkg.data[at] ^= (uint8_t)(1u << bit);
		enum otav_status st =
		    device_boot(dv, f, f->pkg.data, f->pkg.len);
		f->pkg.data[at] ^= (uint8_t)(1u << bit);
		cr_assert_neq(st, OTAV_OK);
		cr_assert_not(dv->rebuilt_ok);
		assert_base_intact(dv);
		device_free(dv);
	}
	fx_free(f);
}

/*
 * A power cut at every write of the apply: the base is never touched, and
 * both a restart from the first byte and a resume from the last finished
 * block give the exact image.
 */
Test(otadelta, power_cut_at_every_write)
{
	struct fx *f = fx_new();
	struct device *dv = device_new();
	unsigned total;

	cr_assert_eq(device_boot(dv, f, f->pkg.data, f->pkg.len), OTAV_OK);
	total = dv->writes;
	cr_assert_gt(total, 40, "%u writes", total);
	device_free(dv);
	for (unsigned k = 1; k <= total; k++) {
		for (int resume = 0; resume < 2; resume++) {
			enum otav_status st;

			dv = device_new();
			dv->power_at = k;
			st = device_boot(dv, f, f->pkg.data, f->pkg.len);
			cr_assert_eq(st, OTAV_E_ABORTED, "cut at write %u", k);
			cr_assert(dv->cut);
			assert_base_intact(dv);
			/* reboot: the package again from its first byte */
			dv->power_at = 0;
			dv->use_resume = resume;
			st = device_boot(dv, f, f->pkg.data, f->pkg.len);
			cr_assert_eq(st, OTAV_OK,
				     "cut at %u, %s: %s at %" PRIu64 ": %s", k,
				     resume ? "resume" : "restart",
				     otav_status_name(st), dv->v.err_offset,
				     dv->v.err_what ? dv->v.err_what : "-");
			cr_assert(dv->rebuilt_ok);
			cr_assert_eq(memcmp(dv->slot, target, TARGET_LEN), 0,
				     "cut at %u: image differs", k);
			assert_base_intact(dv);
			device_free(dv);
		}
	}
	fx_free(f);
}

/* ---- the verifier's refusals of the new fields */

static enum otav_status verify(struct fx *f, struct otav *v)
{
	static const struct otav_policy policy = { .hardware = "board-a" };

	otav_init(v, &f->c.ops, &policy, NULL);
	otav_feed(v, f->pkg.data, f->pkg.len);
	return otav_finish(v);
}

static size_t tlv_at(const struct pkgb_pkg *pkg, uint16_t type)
{
	for (unsigned i = 0; i < pkg->n_tlvs; i++)
		if (pkg->tlv_type[i] == type)
			return pkg->tlv_off[i];
	cr_assert_fail("no TLV %x", type);
	return 0;
}

static void expect(struct fx *f, enum otav_status st, uint64_t off,
		   const char *part)
{
	static struct otav v;
	enum otav_status got = verify(f, &v);

	cr_assert_eq(got, st, "got %s at %" PRIu64 " (%s), want %s",
		     otav_status_name(got), v.err_offset,
		     v.err_what ? v.err_what : "-", otav_status_name(st));
	cr_assert_eq(v.err_offset, off, "at %" PRIu64 ", want %" PRIu64 ": %s",
		     v.err_offset, off, v.err_what);
	if (part)
		cr_assert(strstr(v.err_what, part), "\"%s\" lacks \"%s\"",
			  v.err_what, part);
}

Test(otadelta, verifier_refuses_bad_bases)
{
	struct fx *f = fx_new();
	size_t b = tlv_at(&f->pkg, OTAPKG_TLV_IMAGE_BASE);
	size_t img = f->pkg.image_tlv[1];

	/* unsigned edits, but the structure is refused before signatures */
	expect(f, OTAV_OK, 0, NULL);
	f->pkg.data[4] = 1; /* a v1 header may not hold a patch */
	expect(f, OTAV_E_TLV, img + 1, "needs format version 2");
	f->pkg.data[4] = 2;
	f->pkg.data[b + 4] = 0; /* names image 0, which is not a patch */
	expect(f, OTAV_E_TLV, b + 4, "not a patch");
	f->pkg.data[b + 4] = 2; /* no image 2 */
	expect(f, OTAV_E_TLV, b + 4, "there are 2 IMAGE TLVs");
	f->pkg.data[b + 4] = 1;
	f->pkg.data[b + 6] = 1;
	expect(f, OTAV_E_PADDING, b + 6, "reserved");
	f->pkg.data[b + 6] = 0;
	f->pkg.data[img + 1] = OTAPKG_COMP_NONE; /* the base of no patch */
	expect(f, OTAV_E_TLV, img + 24, "size");
	f->pkg.data[img + 1] = 3;
	expect(f, OTAV_E_TLV, img + 1, "compression 3 is unknown");
	f->pkg.data[img + 1] = OTAPKG_COMP_PATCH;
	fx_free(f);
}

Test(otadelta, verifier_wants_one_base_per_patch)
{
	struct fx *f = fx_new();
	uint8_t twice[OTAPKG_IMAGE_BASE_FIXED + 32] = { 1 };

	/* without its IMAGE_BASE TLV */
	pkgb_free(&f->pkg);
	f->d.omit = 1u << OTAPKG_TLV_IMAGE_BASE;
	pkgb_build(&f->pkg, &f->d);
	expect(f, OTAV_E_TLV, f->pkg.region_end, "without an IMAGE_BASE");
	/* with two */
	pkgb_free(&f->pkg);
	f->d.omit = 0;
	f->d.n_extra = 1;
	f->d.extra[0] =
	    (struct pkgb_tlv){ OTAPKG_TLV_IMAGE_BASE, twice, sizeof(twice) };
	pkgb_build(&f->pkg, &f->d);
	expect(f, OTAV_E_TLV,
	       tlv_at(&f->pkg, OTAPKG_TLV_IMAGE_BASE) + 4 + 4 + sizeof(twice),
	       "out of order or repeated");
	/* an IMAGE_BASE in a version 1 package */
	pkgb_free(&f->pkg);
	f->d.n_extra = 0;
	f->d.images[1].patch = NULL;
	f->d.format = 1;
	f->d.n_extra = 1;
	pkgb_build(&f->pkg, &f->d);
	expect(f, OTAV_E_TLV, tlv_at(&f->pkg, OTAPKG_TLV_IMAGE_BASE),
	       "needs format version 2");
	fx_free(f);
}

/* ---- RAM: what otatool-package(5) states for verifier and applier */

static int man_says(const char *needle)
{
	FILE *fp = fopen(OTA_SOURCE_DIR "/man/otatool-package.5", "r");
	char line[512];
	int found = 0;

	cr_assert_not_null(fp, "man/otatool-package.5");
	while (!found && fgets(line, sizeof(line), fp))
		found = strstr(line, needle) != NULL;
	fclose(fp);
	return found;
}

Test(otadelta, ram_as_documented)
{
	/*
	 * A device built for at most 4 images: the image table is the only
	 * part of struct otav that OTAPKG_MAX_IMAGES sizes, and its entries
	 * are 8-byte aligned, so this is what sizeof gives in that build.
	 */
	size_t verifier = sizeof(struct otav) -
			  (OTAPKG_MAX_IMAGES - 4) * sizeof(struct otav_image);
	size_t both = verifier + sizeof(struct otap);
	char text[64];

	cr_log_info("otav %zu (4 images: %zu), otap %zu, together %zu",
		    sizeof(struct otav), verifier, sizeof(struct otap), both);
	cr_assert_eq(sizeof(struct otav_image), 376);
	cr_assert_eq(sizeof(struct otav), sizeof(void *) == 8 ? 14696 : 14688);
	cr_assert_leq(both, 16384u, "%zu bytes", both);
	/* the man page states ARM's figure, and x86-64's in parentheses */
	snprintf(text, sizeof(text), "(%zu,%03zu on x86\\-64)", both / 1000,
		 both % 1000);
	if (sizeof(void *) != 8)
		snprintf(text, sizeof(text), "%zu,%03zu bytes", both / 1000,
			 both % 1000);
	cr_assert(man_says(text), "the man page lacks \"%s\"", text);
}
