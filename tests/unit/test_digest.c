/* Unit tests for src/lib/digest.c: FIPS 180-4 vectors, files, errors. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "otatool/digest.h"
#include "otatool/error.h"
#include "otatool/hex.h"

#include "tmpdir.h"

/* Known answers: FIPS 180-4's examples (NIST CSRC), checked with openssl. */
#define MSG_448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

enum { V_ABC, V_EMPTY, V_448, V_MILLION_A, N_VECTORS };

static const char *const vector_name[N_VECTORS] = { "abc", "empty", "448-bit",
						    "million a" };

static const char *const expected[3][N_VECTORS] = {
	[OTA_DIGEST_SHA256] = {
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	},
	[OTA_DIGEST_SHA384] = {
		"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
		"1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
		"38b060a751ac96384cd9327eb1b1e36a21fdb71114be0743"
		"4c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
		"3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05ab"
		"fe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b",
		"9d0e1809716474cb086e834e310a4a1ced149e9c00f24852"
		"7972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985",
	},
	[OTA_DIGEST_SHA512] = {
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
		"47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
		"204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
		"96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445",
		"e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
		"de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b",
	},
};

static const enum ota_digest_alg all_algs[] = { OTA_DIGEST_SHA256,
						OTA_DIGEST_SHA384,
						OTA_DIGEST_SHA512 };

static char tmpdir[64];

static void setup(void)
{
	tmpdir_make(tmpdir, sizeof(tmpdir), "digest");
}

static void teardown(void)
{
	if (tmpdir[0])
		tmpdir_remove(tmpdir);
	tmpdir[0] = '\0';
}

TestSuite(digest, .init = setup, .fini = teardown);

/* The vector's bytes; the caller frees them. */
static uint8_t *vector(int v, size_t *len)
{
	uint8_t *p;

	switch (v) {
	case V_ABC:
		*len = 3;
		break;
	case V_EMPTY:
		*len = 0;
		break;
	case V_448:
		*len = strlen(MSG_448);
		break;
	default:
		*len = 1000000;
		break;
	}
	p = malloc(*len + 1);
	cr_assert_not_null(p);
	if (v == V_ABC)
		memcpy(p, "abc", 3);
	else if (v == V_448)
		memcpy(p, MSG_448, *len);
	else if (v == V_MILLION_A)
		memset(p, 'a', *len);
	return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	if (len)
		cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static void hex_of(char *buf, const struct ota_digest *d)
{
	ota_hex_encode(buf, d->bytes, d->len);
}

Test(digest, buffer_known_answers)
{
	for (size_t a = 0; a < 3; a++) {
		for (int v = 0; v < N_VECTORS; v++) {
			enum ota_digest_alg alg = all_algs[a];
			struct ota_digest d;
			char hex[2 * OTA_DIGEST_MAX + 1];
			size_t len;
			uint8_t *data = vector(v, &len);

			memset(&d, 0xa5, sizeof(d));
			cr_assert_eq(ota_digest_buffer(&d, alg, data, len), 0);
			cr_assert_eq(d.alg, alg);
			cr_assert_eq(d.len, ota_digest_alg_size(alg));
			hex_of(hex, &d);
			cr_assert_str_eq(hex, expected[alg][v], "%s of %s",
					 ota_digest_alg_name(alg),
					 vector_name[v]);
			free(data);
		}
	}
}

Test(digest, file_known_answers)
{
	for (size_t a = 0; a < 3; a++) {
		for (int v = 0; v < N_VECTORS; v++) {
			enum ota_digest_alg alg = all_algs[a];
			struct ota_digest d;
			char hex[2 * OTA_DIGEST_MAX + 1], path[128];
			uint64_t size = 12345;
			size_t len;
			uint8_t *data = vector(v, &len);
			int rc;

			snprintf(path, sizeof(path), "%s/vector-%d.bin", tmpdir,
				 v);
			write_file(path, data, len);
			memset(&d, 0xa5, sizeof(d));
			rc = ota_digest_file(&d, &size, alg, path, NULL, NULL);
			cr_assert_eq(rc, 0, "%s", ota_error_message());
			cr_assert_eq(size, len, "%s: size %llu", vector_name[v],
				     (unsigned long long)size);
			cr_assert_eq(d.alg, alg);
			cr_assert_eq(d.len, ota_digest_alg_size(alg));
			hex_of(hex, &d);
			cr_assert_str_eq(hex, expected[alg][v], "%s of %s file",
					 ota_digest_alg_name(alg),
					 vector_name[v]);
			free(data);
		}
	}
}

struct progress {
	int calls;
	uint64_t last_done;
	uint64_t total;
	int bad_total;
	int not_increasing;
	void *ctx_seen;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;

	if (p->calls > 0 && total != p->total)
		p->bad_total++;
	if (done <= p->last_done && p->calls > 0)
		p->not_increasing++;
	p->calls++;
	p->last_done = done;
	p->total = total;
	p->ctx_seen = ctx;
}

/* A pattern with no period that lines up with the buffer size. */
static uint8_t *pattern(size_t len)
{
	uint8_t *p = malloc(len);

	cr_assert_not_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + (i >> 9) + (i >> 17));
	return p;
}

/* File and buffer digests of the same bytes agree whatever the chunking. */
static void check_large(size_t len, enum ota_digest_alg alg)
{
	struct ota_digest fd, bd;
	struct progress p = { 0 };
	char fhex[2 * OTA_DIGEST_MAX + 1], bhex[2 * OTA_DIGEST_MAX + 1];
	char path[128];
	uint64_t size = 0;
	uint8_t *data = pattern(len);
	int rc;

	snprintf(path, sizeof(path), "%s/large-%zu.bin", tmpdir, len);
	write_file(path, data, len);
	rc = ota_digest_file(&fd, &size, alg, path, on_progress, &p);
	cr_assert_eq(rc, 0, "%s", ota_error_message());
	cr_assert_eq(ota_digest_buffer(&bd, alg, data, len), 0);
	hex_of(fhex, &fd);
	hex_of(bhex, &bd);
	cr_assert_str_eq(fhex, bhex, "%zu bytes, %s", len,
			 ota_digest_alg_name(alg));
	cr_assert_eq(size, len);

	/* One call per chunk at least, done rising to the file size. */
	cr_assert_geq(
	    p.calls, (int)((len + OTA_DIGEST_BUFSIZE - 1) / OTA_DIGEST_BUFSIZE),
	    "%d progress calls for %zu bytes", p.calls, len);
	cr_assert_eq(p.not_increasing, 0);
	cr_assert_eq(p.bad_total, 0);
	cr_assert_eq(p.total, len);
	cr_assert_eq(p.last_done, len);
	cr_assert_eq(p.ctx_seen, &p);
	unlink(path);
	free(data);
}

Test(digest, large_file_crosses_chunk_boundaries)
{
	check_large(3 * OTA_DIGEST_BUFSIZE + 17, OTA_DIGEST_SHA256);
	check_large(3 * OTA_DIGEST_BUFSIZE + 17, OTA_DIGEST_SHA512);
}

Test(digest, file_exactly_one_buffer_and_one_more)
{
	check_large(OTA_DIGEST_BUFSIZE - 1, OTA_DIGEST_SHA256);
	check_large(OTA_DIGEST_BUFSIZE, OTA_DIGEST_SHA256);
	check_large(OTA_DIGEST_BUFSIZE + 1, OTA_DIGEST_SHA384);
}

Test(digest, first_progress_call_is_one_chunk)
{
	struct ota_digest d;
	struct progress p = { 0 };
	char path[128];
	uint64_t size;
	size_t len = 2 * OTA_DIGEST_BUFSIZE + 5;
	uint8_t *data = pattern(len);

	snprintf(path, sizeof(path), "%s/two.bin", tmpdir);
	write_file(path, data, len);
	cr_assert_eq(ota_digest_file(&d, &size, OTA_DIGEST_SHA256, path,
				     on_progress, &p),
		     0);
	/* Regular files read in full buffers: 1 MiB, 2 MiB, then the rest. */
	cr_assert_eq(p.calls, 3);
	cr_assert_eq(p.last_done, len);
	free(data);
}

/* The recorded message names path and, if given, says what. */
static void must_name(const char *path, const char *what)
{
	cr_assert_not_null(strstr(ota_error_message(), path),
			   "message does not name %s: %s", path,
			   ota_error_message());
	if (what)
		cr_assert_not_null(strstr(ota_error_message(), what),
				   "message lacks \"%s\": %s", what,
				   ota_error_message());
}

static void expect_input_error(const char *path, const char *what)
{
	struct ota_digest d;
	uint64_t size = 99;
	int rc;

	rc = ota_digest_file(&d, &size, OTA_DIGEST_SHA256, path, NULL, NULL);
	cr_assert_eq(rc, OTA_EINPUT, "%s: rc %d", path, rc);
	cr_assert_eq(ota_error_code(), OTA_EINPUT);
	must_name(path, what);
}

Test(digest, missing_file)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/no-such-file.bin", tmpdir);
	expect_input_error(path, "No such file");
}

Test(digest, directory_refused)
{
	expect_input_error(tmpdir, "directory");
}

Test(digest, device_refused)
{
	expect_input_error("/dev/null", "not a regular file");
}

/*
 * Plays the writer for a FIFO, after a delay, so that a reader stuck in
 * open() is released: blocking then shows up as a slow call, not a hung test.
 */
static pid_t release_fifo_later(const char *path)
{
	pid_t pid = fork();

	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		usleep(500 * 1000);
		/* Non-blocking: fails with ENXIO until someone reads. */
		for (int i = 0; i < 100; i++) {
			int fd = open(path, O_WRONLY | O_NONBLOCK);

			if (fd >= 0) {
				close(fd);
				_exit(0);
			}
			usleep(20 * 1000);
		}
		_exit(0);
	}
	return pid;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * A FIFO is not a regular file: it must be refused, not waited on. Opening
 * one for reading blocks until a writer appears, so the check has to come
 * before the blocking open (or the open must not block).
 */
Test(digest, fifo_refused_without_blocking, .timeout = 10)
{
	struct ota_digest d;
	struct timespec t0;
	char path[128];
	uint64_t size = 0;
	double took;
	pid_t helper;
	int rc;

	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	cr_assert_eq(mkfifo(path, 0600), 0, "mkfifo: %s", strerror(errno));
	helper = release_fifo_later(path);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = ota_digest_file(&d, &size, OTA_DIGEST_SHA256, path, NULL, NULL);
	took = seconds_since(&t0);
	kill(helper, SIGKILL);
	waitpid(helper, NULL, 0);
	cr_assert_eq(rc, OTA_EINPUT, "rc %d", rc);
	must_name(path, "not a regular file");
	cr_assert_lt(took, 0.4,
		     "blocked %.2f s in open() until a writer appeared", took);
}

Test(digest, unreadable_file)
{
	char path[128];

	if (geteuid() == 0) {
		/* A skipped test does not reach .fini: clean up here. */
		teardown();
		cr_skip_test("root reads files whatever their mode");
	}
	snprintf(path, sizeof(path), "%s/secret.bin", tmpdir);
	write_file(path, "abc", 3);
	cr_assert_eq(chmod(path, 0), 0);
	expect_input_error(path, "Permission denied");
}

Test(digest, empty_file_progress_and_size)
{
	struct ota_digest d;
	struct progress p = { 0 };
	char path[128], hex[2 * OTA_DIGEST_MAX + 1];
	uint64_t size = 77;

	snprintf(path, sizeof(path), "%s/empty.bin", tmpdir);
	write_file(path, "", 0);
	cr_assert_eq(ota_digest_file(&d, &size, OTA_DIGEST_SHA256, path,
				     on_progress, &p),
		     0);
	cr_assert_eq(size, 0);
	hex_of(hex, &d);
	cr_assert_str_eq(hex, expected[OTA_DIGEST_SHA256][V_EMPTY]);
	cr_assert_eq(p.not_increasing, 0);
}

Test(digest, alg_parse)
{
	enum ota_digest_alg alg = OTA_DIGEST_SHA512;

	cr_assert_eq(ota_digest_alg_parse(&alg, "sha256"), 0);
	cr_assert_eq(alg, OTA_DIGEST_SHA256);
	cr_assert_eq(ota_digest_alg_parse(&alg, "sha384"), 0);
	cr_assert_eq(alg, OTA_DIGEST_SHA384);
	cr_assert_eq(ota_digest_alg_parse(&alg, "sha512"), 0);
	cr_assert_eq(alg, OTA_DIGEST_SHA512);
}

Test(digest, alg_parse_refuses_others)
{
	static const char *const bad[] = { "md5", "sha1",    "sha-256", "",
					   "sha", "sha2561", "sha256 " };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum ota_digest_alg alg = OTA_DIGEST_SHA384;
		char quoted[32];

		cr_assert_eq(ota_digest_alg_parse(&alg, bad[i]), OTA_EINPUT,
			     "\"%s\"", bad[i]);
		cr_assert_eq(alg, OTA_DIGEST_SHA384, "\"%s\" changed out",
			     bad[i]);
		snprintf(quoted, sizeof(quoted), "\"%s\"", bad[i]);
		cr_assert_not_null(strstr(ota_error_message(), quoted), "%s",
				   ota_error_message());
		cr_assert_not_null(
		    strstr(ota_error_message(), "sha256, sha384 or sha512"),
		    "%s", ota_error_message());
	}
}

Test(digest, alg_names_and_sizes)
{
	cr_assert_str_eq(ota_digest_alg_name(OTA_DIGEST_SHA256), "sha256");
	cr_assert_str_eq(ota_digest_alg_name(OTA_DIGEST_SHA384), "sha384");
	cr_assert_str_eq(ota_digest_alg_name(OTA_DIGEST_SHA512), "sha512");
	cr_assert_eq(ota_digest_alg_size(OTA_DIGEST_SHA256), 32);
	cr_assert_eq(ota_digest_alg_size(OTA_DIGEST_SHA384), 48);
	cr_assert_eq(ota_digest_alg_size(OTA_DIGEST_SHA512), 64);
	cr_assert_leq(ota_digest_alg_size(OTA_DIGEST_SHA512), OTA_DIGEST_MAX);
	for (size_t a = 0; a < 3; a++) {
		enum ota_digest_alg back;

		cr_assert_eq(ota_digest_alg_parse(
				 &back, ota_digest_alg_name(all_algs[a])),
			     0);
		cr_assert_eq(back, all_algs[a]);
	}
}
