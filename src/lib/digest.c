/* Streaming digests over files, through one fixed buffer and OpenSSL EVP. */
#include "otatool/digest.h"
#include "hasher.h"
#include "otatool/error.h"
#include "otatool/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *name;
	size_t size;
} algs[] = {
	[OTA_DIGEST_SHA256] = { "sha256", 32 },
	[OTA_DIGEST_SHA384] = { "sha384", 48 },
	[OTA_DIGEST_SHA512] = { "sha512", 64 },
};

int ota_digest_alg_parse(enum ota_digest_alg *out, const char *name)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (strcmp(name, algs[i].name) == 0) {
			*out = (enum ota_digest_alg)i;
			return 0;
		}
	}
	return ota_error(OTA_EINPUT,
			 "unknown digest \"%s\" (choose sha256, sha384 or "
			 "sha512)",
			 name);
}

const char *ota_digest_alg_name(enum ota_digest_alg alg)
{
	return algs[alg].name;
}

size_t ota_digest_alg_size(enum ota_digest_alg alg)
{
	return algs[alg].size;
}

const EVP_MD *ota_digest_md(enum ota_digest_alg alg)
{
	switch (alg) {
	case OTA_DIGEST_SHA384:
		return EVP_sha384();
	case OTA_DIGEST_SHA512:
		return EVP_sha512();
	default:
		return EVP_sha256();
	}
}

int ota_digest_buffer(struct ota_digest *out, enum ota_digest_alg alg,
		      const void *data, size_t len)
{
	unsigned int n = 0;

	if (!EVP_Digest(data, len, out->bytes, &n, ota_digest_md(alg), NULL))
		return ota_error(OTA_EINTERNAL, "%s digest failed",
				 ota_digest_alg_name(alg));
	out->alg = alg;
	out->len = n;
	return 0;
}

int ota_digest_file(struct ota_digest *out, uint64_t *size,
		    enum ota_digest_alg alg, const char *path,
		    ota_progress_fn progress, void *progress_ctx)
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t *buf = NULL;
	uint64_t done = 0, fsize = 0;
	unsigned int n = 0;
	int fd, rc;

	if ((rc = ota_file_open_regular(&fd, &fsize, path)))
		return rc;
	/* The kernel reads ahead harder when it knows we go front to back. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

	buf = malloc(OTA_DIGEST_BUFSIZE);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx || !EVP_DigestInit_ex(ctx, ota_digest_md(alg), NULL)) {
		rc = ota_error(OTA_EINTERNAL, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t got = read(fd, buf, OTA_DIGEST_BUFSIZE);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = ota_error(
			    OTA_EINPUT, "%s: read error at offset %llu: %s",
			    path, (unsigned long long)done, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if (!EVP_DigestUpdate(ctx, buf, (size_t)got)) {
			rc =
			    ota_error(OTA_EINTERNAL, "%s: digest failed", path);
			goto out;
		}
		done += (uint64_t)got;
		if (progress)
			progress(progress_ctx, done, fsize);
	}
	if (!EVP_DigestFinal_ex(ctx, out->bytes, &n)) {
		rc = ota_error(OTA_EINTERNAL, "%s: digest failed", path);
		goto out;
	}
	out->alg = alg;
	out->len = n;
	*size = done;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	return rc;
}
