/*
 * libFuzzer target for the MCUboot image verifier: every input is an image
 * file, inspected (no trusted keys: structure, TLV bounds and hash), with
 * a fixed X25519 device key, so that an encrypted image's key TLV 0x33 is
 * unwrapped and its payload decrypted (the seeds ecies-x25519-*.bin are
 * encrypted for it). The
 * input goes to an anonymous memory file so the verifier reads it through
 * the same path as a real one, without touching the disk.
 *
 * Build and run from the top of the tree (after a cmake configure in build/
 * for the generated headers):
 *   mkdir -p build-fuzz && cd build-fuzz
 *   for f in ../src/lib/[a-z]*.c; do clang -c -g -O1 \
 *     -fsanitize=fuzzer-no-link,address,undefined \
 *     -I../include -I../src/device -I../build/generated \
 *     -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
 *     -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED \
 *     $(pkg-config --cflags p11-kit-1) "$f" || break; done
 *   ar rcs libotatool-fuzz.a *.o   # an archive links only what is used
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I../include \
 *     ../fuzz/fuzz_mcuboot.c libotatool-fuzz.a -o fuzz_mcuboot -lcrypto \
 *     -ljansson -lyaml -lgit2 -lp11-kit -lz -ldl
 *   mkdir -p corpus
 *   ./fuzz_mcuboot -max_total_time=60 corpus ../fuzz/corpus/mcuboot
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otatool/cipher.h"
#include "otatool/error.h"
#include "otatool/mcuboot.h"

#include "memfile.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fuzzing-only device key: it protects nothing. */
static const char device_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VuBCIEIHjFaG5jShpggZjkuE6ECZ1b/RngtslBeiZyuaux7jBf\n"
    "-----END PRIVATE KEY-----\n";

static struct ota_decrypt_key *device_key(void)
{
	static struct ota_decrypt_key *k;
	char path[64];
	int fd;

	if (k)
		return k;
	fd = memfd_create("fuzz-device-key", 0);
	if (fd < 0 || write(fd, device_key_pem, strlen(device_key_pem)) !=
			  (ssize_t)strlen(device_key_pem))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (ota_decrypt_key_open(&k, path, NULL))
		abort();
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = memfile_path(data, size);
	struct ota_mcuboot_info info;
	char *text = NULL;
	size_t len = 0;
	int rc;

	struct ota_mcuboot_policy policy = { .decrypt_key = device_key() };

	rc = ota_mcuboot_verify(&info, path, &policy, NULL, NULL);
	/* Whatever was filled in must be reportable. */
	if (ota_mcuboot_info_to_json(&text, &len, &info) || !text ||
	    strlen(text) != len)
		abort();
	free(text);
	/* OTA_EKEY: a key TLV of a scheme this X25519 key cannot unwrap. */
	if (rc != 0 && rc != OTA_EVERIFY && rc != OTA_EKEY)
		abort();
	return 0;
}
