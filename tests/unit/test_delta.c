/*
 * Unit tests for src/lib/delta.c (the patch encoder) and
 * src/lib/delta_apply.c (the host applier running the device code): round
 * trips on many pairs (identical, empty, grown, shrunk, shifted, unrelated,
 * multi-MiB, odd sizes, real Cortex-M firmware built here with
 * arm-none-eabi-gcc), reproducible output, the wrong base refused before
 * any write, target digests, every truncation and bit flip of a small
 * patch through the host applier, and a power cut at every write of a real
 * application on a simulated flash. Also writes (OTAP_WRITE_SEEDS=DIR) and
 * checks the fuzz seeds in fuzz/corpus/patch.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "otapatch.h"
#include "otatool/delta.h"
#include "otatool/digest.h"
#include "otatool/error.h"
#include "otatool/hex.h"

/* The fuzz target's fixed base: the seeds are patches against it. */
#define FUZZ_PATCH_NO_MAIN
#include "../../fuzz/fuzz_patch.c"

static char tmpdir[64];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/otatool-delta-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
	char cmd[128];

	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		(void)system(cmd);
	}
}

TestSuite(delta, .init = setup, .fini = teardown);

struct mem {
	uint8_t *p;
	size_t len, cap;
	size_t limit; /* fail writes past this many bytes (0: none) */
	unsigned calls;
};

static int mem_write(void *ctx, const uint8_t *data, size_t len)
{
	struct mem *m = ctx;

	m->calls++;
	if (m->limit && m->len + len > m->limit)
		return ota_error(OTA_EOUTPUT, "test: write limit");
	if (m->cap - m->len < len) {
		size_t cap = m->cap ? m->cap : 4096;

		while (cap - m->len < len)
			cap *= 2;
		m->p = realloc(m->p, cap);
		cr_assert_not_null(m->p);
		m->cap = cap;
	}
	memcpy(m->p + m->len, data, len);
	m->len += len;
	return 0;
}

static char *path(const char *name)
{
	static char buf[4][256];
	static unsigned next;
	char *p = buf[next++ % 4];

	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

static void write_file(const char *p, const uint8_t *data, size_t len)
{
	FILE *f = fopen(p, "wb");

	cr_assert_not_null(f, "%s", p);
	cr_assert(len == 0 || fwrite(data, 1, len, f) == len);
	cr_assert_eq(fclose(f), 0);
}

static uint8_t *read_file(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *d;
	long n;

	cr_assert_not_null(f, "%s", p);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc((size_t)n + 1);
	cr_assert_not_null(d);
	cr_assert_eq(fread(d, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return d;
}

/* Encodes base_file -> target_file into m; asserts success. */
static void encode(struct mem *m, const char *base, const char *target,
		   const struct ota_delta_params *prm,
		   struct ota_delta_stats *st)
{
	int rc;

	memset(m, 0, sizeof(*m));
	rc = ota_delta_encode(prm, base, target, mem_write, m, st);
	cr_assert_eq(rc, 0, "encode: %s", ota_error_message());
}

/* Applies patch (memory) to base (file); returns rc, output in out. */
static int apply_mem(const char *base, const struct mem *patch, size_t chunk,
		     const struct ota_delta_apply_opts *opts, struct mem *out,
		     struct ota_delta_result *res)
{
	struct ota_delta_apply *a = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ota_delta_apply_new(&a, base, opts, mem_write, out)))
		return rc;
	if (!chunk)
		chunk = patch->len ? patch->len : 1;
	for (size_t i = 0; i < patch->len && rc == 0; i += chunk)
		rc = ota_delta_apply_feed(
		    a, patch->p + i,
		    patch->len - i < chunk ? patch->len - i : chunk);
	if (rc == 0)
		rc = ota_delta_apply_finish(a, res);
	ota_delta_apply_free(a);
	return rc;
}

/* A full round trip of two buffers; returns the patch size. */
static size_t round_trip(const char *what, const uint8_t *base, size_t bn,
			 const uint8_t *target, size_t tn)
{
	struct mem patch, again, out;
	struct ota_delta_stats st;
	struct ota_delta_result res;
	struct ota_digest want;
	struct ota_delta_apply_opts opts = { 0 };
	int rc;

	write_file(path("base"), base, bn);
	write_file(path("target"), target, tn);
	encode(&patch, path("base"), path("target"), NULL, &st);
	cr_assert_eq(st.patch_size, patch.len, "%s", what);
	cr_assert_eq(st.target_size, tn);
	cr_assert_eq(st.base_size, bn);
	cr_assert_eq(st.diff_bytes + st.extra_bytes, tn, "%s", what);
	cr_assert_eq(st.blocks, (tn + 65535) / 65536, "%s", what);
	/* reproducible */
	encode(&again, path("base"), path("target"), NULL, NULL);
	cr_assert_eq(again.len, patch.len, "%s: not reproducible", what);
	cr_assert_eq(memcmp(again.p, patch.p, patch.len), 0, "%s", what);
	free(again.p);
	/* applied, with the target digest checked */
	cr_assert_eq(ota_digest_buffer(&want, OTA_DIGEST_SHA256, target, tn),
		     0);
	opts.digest_alg = OTA_DIGEST_SHA256;
	opts.target_digest = &want;
	rc = apply_mem(path("base"), &patch, 4099, &opts, &out, &res);
	cr_assert_eq(rc, 0, "%s: apply: %s", what, ota_error_message());
	cr_assert_eq(out.len, tn, "%s", what);
	cr_assert(tn == 0 || memcmp(out.p, target, tn) == 0, "%s: differs",
		  what);
	cr_assert_eq(res.target_size, tn);
	cr_assert_eq(res.base_size, bn);
	cr_assert_eq(memcmp(res.target_digest.bytes, want.bytes, want.len), 0);
	free(out.p);
	free(patch.p);
	return st.patch_size;
}

static void fill_code(uint8_t *p, size_t n, uint32_t seed)
{
	/* code-like: 16-bit words from a small vocabulary, some literals */
	static const uint16_t ops[] = { 0xb580, 0x4770, 0x2000, 0x6800,
					0xf7ff, 0xbd80, 0x4618, 0x2101 };
	uint32_t x = seed;

	for (size_t i = 0; i + 1 < n; i += 2) {
		uint16_t w;

		x = x * 1103515245u + 12345u;
		w = (x >> 28) < 12 ? ops[(x >> 16) % 8] : (uint16_t)(x >> 8);
		p[i] = (uint8_t)w;
		p[i + 1] = (uint8_t)(w >> 8);
	}
	if (n % 2)
		p[n - 1] = 0x42;
}

Test(delta, round_trips)
{
	enum { N = 200000 };
	uint8_t *a = malloc(N), *b = malloc(N + 5000);
	size_t sz;

	cr_assert(a && b);
	fill_code(a, N, 1);
	sz = round_trip("identical", a, N, a, N);
	cr_assert_lt(sz, 1000, "identical: %zu", sz);
	round_trip("empty base", NULL, 0, a, N);
	round_trip("empty target", a, N, NULL, 0);
	round_trip("both empty", NULL, 0, NULL, 0);
	round_trip("one byte each", a, 1, a + 1, 1);
	/* grown: a new function in the middle */
	memcpy(b, a, 100000);
	fill_code(b + 100000, 5000, 2);
	memcpy(b + 105000, a + 100000, N - 100000);
	sz = round_trip("grown", a, N, b, N + 5000);
	cr_assert_lt(sz, 8000, "grown: %zu", sz);
	/* shrunk */
	sz = round_trip("shrunk", b, N + 5000, a, N);
	cr_assert_lt(sz, 2000, "shrunk: %zu", sz);
	/* shifted code: everything moves by 6 bytes, addresses change */
	memcpy(b, a + 6, N - 6);
	for (size_t i = 0; i + 4 <= N - 6; i += 64)
		b[i] = (uint8_t)(b[i] + 6);
	sz = round_trip("shifted", a, N, b, N - 6);
	cr_assert_lt(sz, 8000, "shifted: %zu", sz);
	/* completely different */
	fill_code(b, N, 99);
	round_trip("different", a, N, b, N);
	/* odd sizes around the block size */
	round_trip("block - 1", a, N, b, 65535);
	round_trip("block", a, N, b, 65536);
	round_trip("block + 1", a, N, b, 65537);
	free(a);
	free(b);
}

Test(delta, multi_mib)
{
	size_t n = 3u * 1024 * 1024 + 12345;
	uint8_t *a = malloc(n), *b = malloc(n);
	size_t sz;

	cr_assert(a && b);
	fill_code(a, n, 7);
	memcpy(b, a, n);
	/* scattered edits and one moved region */
	for (size_t i = 1000; i < n; i += 99991)
		b[i] ^= 0x55;
	memmove(b + 2000000, a + 2000100, 100000);
	sz = round_trip("3 MiB", a, n, b, n);
	cr_assert_lt(sz, n / 50, "3 MiB: %zu", sz);
	free(a);
	free(b);
}

Test(delta, params_refused)
{
	struct ota_delta_params p;
	struct mem m = { 0 };
	static const uint8_t x[10] = { 0 };

	write_file(path("a"), x, sizeof(x));
	ota_delta_params_default(&p);
	cr_assert_eq(p.block_size, 65536);
	cr_assert_eq(p.dict_size, 4096);
	p.dict_size = 8192; /* a window the applier does not have */
	cr_assert_eq(
	    ota_delta_encode(&p, path("a"), path("a"), mem_write, &m, NULL),
	    OTA_EUSAGE);
	cr_assert_eq(m.len, 0);
	ota_delta_params_default(&p);
	p.lc = 1;
	cr_assert_eq(
	    ota_delta_encode(&p, path("a"), path("a"), mem_write, &m, NULL),
	    OTA_EUSAGE);
	ota_delta_params_default(&p);
	p.block_size = 65535;
	cr_assert_eq(
	    ota_delta_encode(&p, path("a"), path("a"), mem_write, &m, NULL),
	    OTA_EUSAGE);
	cr_assert_eq(m.len, 0);
	/* smaller blocks round-trip too */
	ota_delta_params_default(&p);
	p.block_size = 4096;
	{
		uint8_t big[20000];
		struct mem patch, out;
		struct ota_delta_stats st;

		fill_code(big, sizeof(big), 3);
		write_file(path("b"), big, sizeof(big));
		encode(&patch, path("a"), path("b"), &p, &st);
		cr_assert_eq(st.blocks, 5);
		cr_assert_eq(apply_mem(path("a"), &patch, 1, NULL, &out, NULL),
			     0, "%s", ota_error_message());
		cr_assert_eq(out.len, sizeof(big));
		cr_assert_eq(memcmp(out.p, big, sizeof(big)), 0);
		free(out.p);
		free(patch.p);
	}
	/* a missing input names the file */
	cr_assert_eq(ota_delta_encode(NULL, path("nope"), path("a"), mem_write,
				      &m, NULL),
		     OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "nope") != NULL);
}

/* A small pair and its patch, for the refusal tests. */
static void small_pair(struct mem *patch, uint8_t *t, size_t tn)
{
	uint8_t a[3000];

	fill_code(a, sizeof(a), 5);
	memcpy(t, a, tn < sizeof(a) ? tn : sizeof(a));
	t[100] ^= 1;
	t[2000] = 7;
	write_file(path("base"), a, sizeof(a));
	write_file(path("target"), t, tn);
	encode(patch, path("base"), path("target"), NULL, NULL);
}

Test(delta, wrong_base_refused_before_any_write)
{
	uint8_t t[2900];
	struct mem patch, out;
	struct ota_digest good, bad;
	struct ota_delta_apply_opts opts = { 0 };
	uint8_t other[3000];
	char want[2 * OTA_DIGEST_MAX + 1], got[2 * OTA_DIGEST_MAX + 1];
	uint64_t size;
	int rc;

	small_pair(&patch, t, sizeof(t));
	cr_assert_eq(ota_digest_file(&good, &size, OTA_DIGEST_SHA256,
				     path("base"), NULL, NULL),
		     0);
	/* same size, other bytes */
	fill_code(other, sizeof(other), 6);
	write_file(path("other"), other, sizeof(other));
	cr_assert_eq(ota_digest_file(&bad, &size, OTA_DIGEST_SHA256,
				     path("other"), NULL, NULL),
		     0);
	opts.digest_alg = OTA_DIGEST_SHA256;
	opts.base_digest = &good;
	opts.patch_name = "app in d.otapkg";
	rc = apply_mem(path("other"), &patch, 0, &opts, &out, NULL);
	cr_assert_eq(rc, OTA_EVERIFY);
	cr_assert_eq(out.calls, 0, "written before the base was checked");
	ota_hex_encode(want, good.bytes, good.len);
	ota_hex_encode(got, bad.bytes, bad.len);
	cr_assert(strstr(ota_error_message(), want), "%s", ota_error_message());
	cr_assert(strstr(ota_error_message(), got));
	cr_assert(strstr(ota_error_message(), "app in d.otapkg"));
	/* no digest given, other size: the header check refuses */
	write_file(path("short"), other, 2999);
	rc = apply_mem(path("short"), &patch, 0, NULL, &out, NULL);
	cr_assert_eq(rc, OTA_EVERIFY);
	cr_assert_eq(out.calls, 0);
	cr_assert(strstr(ota_error_message(), "3000"), "%s",
		  ota_error_message());
	/* the right base passes */
	rc = apply_mem(path("base"), &patch, 0, &opts, &out, NULL);
	cr_assert_eq(rc, 0, "%s", ota_error_message());
	cr_assert_eq(out.len, sizeof(t));
	free(out.p);
	free(patch.p);
}

Test(delta, target_digest_checked)
{
	uint8_t t[2900];
	struct mem patch, out;
	struct ota_digest d;
	struct ota_delta_apply_opts opts = { 0 };

	small_pair(&patch, t, sizeof(t));
	t[5] ^= 1;
	cr_assert_eq(ota_digest_buffer(&d, OTA_DIGEST_SHA384, t, sizeof(t)), 0);
	opts.digest_alg = OTA_DIGEST_SHA384;
	opts.target_digest = &d;
	cr_assert_eq(apply_mem(path("base"), &patch, 0, &opts, &out, NULL),
		     OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "does not match"));
	free(out.p);
	free(patch.p);
}

Test(delta, every_truncation_and_bit_flip)
{
	uint8_t t[2900];
	struct mem patch, out, cut;
	struct ota_digest d;
	struct ota_delta_apply_opts opts = { 0 };
	unsigned accepted = 0;

	small_pair(&patch, t, sizeof(t));
	cr_assert_eq(ota_digest_buffer(&d, OTA_DIGEST_SHA256, t, sizeof(t)), 0);
	opts.digest_alg = OTA_DIGEST_SHA256;
	opts.target_digest = &d;
	for (size_t n = 0; n < patch.len; n++) {
		cut = patch;
		cut.len = n;
		cr_assert_eq(
		    apply_mem(path("base"), &cut, 0, &opts, &out, NULL),
		    OTA_EVERIFY, "cut at %zu", n);
		cr_assert(strstr(ota_error_message(), "byte "), "%s",
			  ota_error_message());
		cr_assert_leq(out.len, sizeof(t));
		free(out.p);
	}
	for (size_t bit = 0; bit < patch.len * 8; bit++) {
		int rc;

		patch.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = apply_mem(path("base"), &patch, 0, &opts, &out, NULL);
		patch.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cr_assert_leq(out.len, sizeof(t), "bit %zu", bit);
		if (rc == 0) {
			/* only if it rebuilt the exact image */
			cr_assert_eq(out.len, sizeof(t));
			cr_assert_eq(memcmp(out.p, t, sizeof(t)), 0);
			accepted++;
		} else {
			cr_assert_eq(rc, OTA_EVERIFY, "bit %zu: %s", bit,
				     ota_error_message());
		}
		free(out.p);
	}
	cr_log_info("%u of %zu flips still rebuilt the image", accepted,
		    patch.len * 8);
	free(patch.p);
}

Test(delta, apply_file)
{
	uint8_t t[2900];
	struct mem patch;
	struct ota_delta_result res;
	uint8_t *got;
	size_t n;
	struct stat sb;

	small_pair(&patch, t, sizeof(t));
	write_file(path("patch"), patch.p, patch.len);
	cr_assert_eq(ota_delta_apply_file(path("base"), path("patch"),
					  path("out"), NULL, &res),
		     0, "%s", ota_error_message());
	got = read_file(path("out"), &n);
	cr_assert_eq(n, sizeof(t));
	cr_assert_eq(memcmp(got, t, n), 0);
	cr_assert_eq(res.blocks, 1);
	cr_assert_eq(res.dict_size, 4096);
	free(got);
	/* check only: nothing written */
	cr_assert_eq(
	    ota_delta_apply_file(path("base"), path("patch"), NULL, NULL, NULL),
	    0);
	/* a refused patch leaves no output file behind */
	patch.p[patch.len - 1] ^= 0xff;
	write_file(path("patch"), patch.p, patch.len);
	cr_assert_eq(ota_delta_apply_file(path("base"), path("patch"),
					  path("out2"), NULL, NULL),
		     OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), path("patch")), "%s",
		  ota_error_message());
	cr_assert_neq(stat(path("out2"), &sb), 0);
	/* the writer's failure comes back as its own error */
	cr_assert_eq(ota_delta_encode_file(NULL, path("base"), path("target"),
					   "/nonexistent/dir/p", NULL),
		     OTA_EOUTPUT);
	free(patch.p);
}

/* ---- real firmware: the project's own device code, cross-compiled */

static int have_arm_gcc(void)
{
	return system("arm-none-eabi-gcc --version >/dev/null 2>&1") == 0;
}

/* Links src/device into a Cortex-M4 image with the given flags. */
static void build_firmware(const char *out, const char *flags)
{
	char cmd[2048];
	const char *src = OTA_SOURCE_DIR "/src/device";
	int rc;

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb "
		 "-specs=nano.specs -specs=nosys.specs -nostartfiles "
		 "-Wl,-e,otav_feed -I%s %s %s/otaverify.c %s/otapatch.c "
		 "%s/otaroot.c -o '%s.elf' && arm-none-eabi-objcopy -O binary "
		 "'%s.elf' '%s'",
		 tmpdir, src, flags, src, src, src, out, out, out);
	rc = system(cmd);
	cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "%s", cmd);
}

static uint8_t *firmware_pair(const char *old_flags, const char *new_flags,
			      uint8_t **old, size_t *on, size_t *nn)
{
	build_firmware(path("fw-old.bin"), old_flags);
	build_firmware(path("fw-new.bin"), new_flags);
	*old = read_file(path("fw-old.bin"), on);
	return read_file(path("fw-new.bin"), nn);
}

Test(delta, real_firmware_pairs)
{
	static const struct {
		const char *what, *old_flags, *new_flags;
		unsigned max_percent; /* patch / new image */
	} pairs[] = {
		/* a one-constant change: a buffer size in the applier */
		{ "constant", "-Os", "-Os -DOTAP_BASE_BUF=32u", 10 },
		/* a feature change: larger write buffer and image table */
		{ "feature", "-Os", "-Os -DOTAP_WRITE_SIZE=512u", 25 },
		/* a compiler-option change */
		{ "options", "-Os", "-O2", 80 },
	};

	if (!have_arm_gcc())
		cr_skip_test("arm-none-eabi-gcc not installed");
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		uint8_t *old, *nw;
		size_t on, nn, sz;

		nw = firmware_pair(pairs[i].old_flags, pairs[i].new_flags, &old,
				   &on, &nn);
		cr_assert(on > 4096 && nn > 4096);
		cr_assert(on != nn || memcmp(old, nw, on) != 0,
			  "%s: the images are the same", pairs[i].what);
		sz = round_trip(pairs[i].what, old, on, nw, nn);
		cr_log_info("firmware %s: %zu -> %zu bytes, patch %zu",
			    pairs[i].what, on, nn, sz);
		cr_assert_lt(sz * 100, nn * pairs[i].max_percent,
			     "%s: patch %zu of %zu", pairs[i].what, sz, nn);
		free(old);
		free(nw);
	}
}

/* ---- power loss during a real application: simulated flash */

struct slots {
	uint8_t *base, *base_copy, *target;
	size_t base_size, target_size;
	unsigned writes, power_at;
	int cut;
	uint32_t resume_index;
	uint64_t resume_offset;
};

static int sl_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
	struct slots *s = ctx;

	cr_assert(off < s->base_size && len <= s->base_size - off);
	memcpy(buf, s->base + off, len);
	return 0;
}

static int sl_erase(void *ctx, uint64_t off, uint32_t len)
{
	struct slots *s = ctx;

	cr_assert(!s->cut);
	cr_assert(off <= s->target_size && len <= s->target_size - off);
	memset(s->target + off, 0xff, len);
	return 0;
}

static int sl_write(void *ctx, uint64_t off, const uint8_t *d, size_t len)
{
	struct slots *s = ctx;

	cr_assert(!s->cut);
	cr_assert(off <= s->target_size && len <= s->target_size - off);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(s->target[off + i], 0xff, "write over data");
	if (++s->writes == s->power_at) {
		memcpy(s->target + off, d, len / 3);
		s->cut = 1;
		return -1;
	}
	memcpy(s->target + off, d, len);
	return 0;
}

static int sl_done(void *ctx, uint32_t index, uint64_t next)
{
	struct slots *s = ctx;

	s->resume_index = index + 1;
	s->resume_offset = next;
	return 0;
}

static enum otap_status sl_apply(struct slots *s, const struct mem *patch,
				 uint32_t index, uint64_t off)
{
	struct otap_io io = { s,    sl_read, sl_erase, sl_write,
			      NULL, NULL,    sl_done };
	static struct otap p;
	enum otap_status st;

	otap_init(&p, &io);
	if (index && (st = otap_resume(&p, index, off)) != OTAP_OK)
		return st;
	for (size_t i = 0; i < patch->len; i += 1500) {
		size_t n = patch->len - i < 1500 ? patch->len - i : 1500;

		if ((st = otap_feed(&p, patch->p + i, n)) != OTAP_OK)
			return st;
	}
	return otap_finish(&p);
}

Test(delta, power_cut_at_every_write_of_a_real_application)
{
	uint8_t *old, *nw;
	size_t on, nn;
	struct mem patch;
	struct ota_delta_params prm;
	struct slots s = { 0 };
	unsigned total;

	if (have_arm_gcc()) {
		nw = firmware_pair("-Os", "-Os -DOTAP_WRITE_SIZE=512u", &old,
				   &on, &nn);
	} else {
		on = nn = 20000;
		old = malloc(on);
		nw = malloc(nn);
		cr_assert(old && nw);
		fill_code(old, on, 11);
		memcpy(nw, old, nn);
		nw[7000] ^= 1;
		nw[15000] ^= 1;
	}
	write_file(path("base"), old, on);
	write_file(path("target"), nw, nn);
	/* 4 KiB blocks: several per image, so resumes skip some */
	ota_delta_params_default(&prm);
	prm.block_size = 4096;
	encode(&patch, path("base"), path("target"), &prm, NULL);
	s.base = old;
	s.base_copy = malloc(on);
	s.target = malloc(nn);
	cr_assert(s.base_copy && s.target);
	memcpy(s.base_copy, old, on);
	s.base_size = on;
	s.target_size = nn;
	cr_assert_eq(sl_apply(&s, &patch, 0, 0), OTAP_OK);
	cr_assert_eq(memcmp(s.target, nw, nn), 0);
	total = s.writes;
	cr_assert_gt(total, 8);
	for (unsigned cut = 1; cut <= total; cut++) {
		enum otap_status st;

		s.writes = 0;
		s.cut = 0;
		s.power_at = cut;
		s.resume_index = 0;
		s.resume_offset = 0;
		memset(s.target, 0, nn);
		cr_assert_eq(sl_apply(&s, &patch, 0, 0), OTAP_E_IO);
		cr_assert_eq(memcmp(s.base, s.base_copy, on), 0,
			     "cut %u: base touched", cut);
		/* reboot and resume at the last finished block */
		s.cut = 0;
		s.power_at = 0;
		st = sl_apply(&s, &patch, s.resume_index, s.resume_offset);
		cr_assert_eq(st, OTAP_OK, "cut %u: %s", cut,
			     otap_status_name(st));
		cr_assert_eq(memcmp(s.target, nw, nn), 0,
			     "cut %u: resumed image differs", cut);
		/* or start over */
		cr_assert_eq(sl_apply(&s, &patch, 0, 0), OTAP_OK);
		cr_assert_eq(memcmp(s.target, nw, nn), 0);
		cr_assert_eq(memcmp(s.base, s.base_copy, on), 0);
	}
	free(s.base_copy);
	free(s.target);
	free(patch.p);
	free(old);
	free(nw);
}

/* ---- the fuzz seeds: patches against fuzz_patch.c's base */

static const struct {
	const char *name;
	uint8_t chunking; /* the fuzz target's first byte */
	uint32_t block_size;
} seeds[] = {
	{ "small-edit", 0x00, 4096 },         { "grown-3-blocks", 0x05, 4096 },
	{ "unrelated", 0x83, 4096 },          { "empty-target", 0x00, 4096 },
	{ "shifted-64k-block", 0x21, 65536 },
};

/* Seed i's target, made from the base; its length. */
static size_t seed_target(unsigned i, const uint8_t *base, uint8_t *t)
{
	switch (i) {
	case 0:
		memcpy(t, base, FUZZ_BASE_SIZE);
		t[300] ^= 0x10;
		t[5000] = 0x4f;
		return FUZZ_BASE_SIZE;
	case 1:
		memcpy(t, base, 4000);
		fill_code(t + 4000, 3000, 21);
		memcpy(t + 7000, base + 4000, FUZZ_BASE_SIZE - 4000);
		return FUZZ_BASE_SIZE + 3000;
	case 2:
		fill_code(t, 2500, 77);
		return 2500;
	case 3:
		return 0;
	default:
		memcpy(t, base + 10, FUZZ_BASE_SIZE - 10);
		return FUZZ_BASE_SIZE - 10;
	}
}

/* Seed i as the fuzz target reads it: chunking byte, then the patch. */
static void seed_bytes(unsigned i, struct mem *out)
{
	static uint8_t base[FUZZ_BASE_SIZE], t[2 * FUZZ_BASE_SIZE];
	struct ota_delta_params prm;
	struct mem patch;
	size_t tn;

	fuzz_patch_base(base);
	tn = seed_target(i, base, t);
	write_file(path("seed-base"), base, sizeof(base));
	write_file(path("seed-target"), t, tn);
	ota_delta_params_default(&prm);
	prm.block_size = seeds[i].block_size;
	encode(&patch, path("seed-base"), path("seed-target"), &prm, NULL);
	memset(out, 0, sizeof(*out));
	mem_write(out, &seeds[i].chunking, 1);
	mem_write(out, patch.p, patch.len);
	free(patch.p);
}

/* OTAP_WRITE_SEEDS=fuzz/corpus/patch regenerates the committed seeds. */
Test(delta, write_seeds_when_asked)
{
	const char *dir = getenv("OTAP_WRITE_SEEDS");

	if (dir == NULL)
		cr_skip_test("set OTAP_WRITE_SEEDS=DIR to write the seeds");
	for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char p[4096];
		struct mem m;
		FILE *fp;

		seed_bytes(i, &m);
		snprintf(p, sizeof(p), "%s/%s", dir, seeds[i].name);
		fp = fopen(p, "wb");
		cr_assert_not_null(fp, "%s", p);
		cr_assert_eq(fwrite(m.p, 1, m.len, fp), m.len);
		cr_assert_eq(fclose(fp), 0);
		free(m.p);
	}
}

/* The committed seeds are what the encoder makes, and they apply. */
Test(delta, committed_seeds)
{
	static uint8_t base[FUZZ_BASE_SIZE], t[2 * FUZZ_BASE_SIZE];

	fuzz_patch_base(base);
	for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char p[4096];
		struct mem m, patch, out;
		uint8_t *got;
		size_t n, tn = seed_target(i, base, t);

		seed_bytes(i, &m);
		snprintf(p, sizeof(p), "%s/fuzz/corpus/patch/%s",
			 OTA_SOURCE_DIR, seeds[i].name);
		got = read_file(p, &n);
		cr_assert_eq(n, m.len, "%s: regenerate with OTAP_WRITE_SEEDS",
			     p);
		cr_assert_eq(memcmp(got, m.p, n), 0,
			     "%s: regenerate with OTAP_WRITE_SEEDS", p);
		patch.p = got + 1;
		patch.len = n - 1;
		write_file(path("seed-base"), base, sizeof(base));
		cr_assert_eq(
		    apply_mem(path("seed-base"), &patch, 0, NULL, &out, NULL),
		    0, "%s: %s", p, ota_error_message());
		cr_assert_eq(out.len, tn);
		cr_assert(tn == 0 || memcmp(out.p, t, tn) == 0);
		free(out.p);
		free(got);
		free(m.p);
	}
}
