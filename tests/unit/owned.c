/* The test-only ownership registry of owned.h. */
#include "owned.h"

#include <criterion/criterion.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include "otatool/envelope.h"
#include "otatool/key.h"
#include "otatool/manifest.h"

#define OWN_MAX 256
static struct {
	void *p;
	void (*release)(void *);
} owned[OWN_MAX];

void *own(void *p, void (*release)(void *))
{
	for (size_t i = 0; i < OWN_MAX; i++) {
		if (!owned[i].p) {
			owned[i].p = p;
			owned[i].release = release;
			return p;
		}
	}
	cr_assert_fail("more than %d live allocations", OWN_MAX);
	return p;
}

void release_owned(void)
{
	for (size_t i = 0; i < OWN_MAX; i++) {
		if (owned[i].p)
			owned[i].release(owned[i].p);
		owned[i].p = NULL;
	}
}

void release_mem(void *p)
{
	free(p);
}

void release_ossl(void *p)
{
	OPENSSL_free(p);
}

void release_pkey(void *p)
{
	EVP_PKEY_free(p);
}

void release_x509(void *p)
{
	X509_free(p);
}

void release_key(void *p)
{
	ota_key_free(p);
}

void release_public_key(void *p)
{
	ota_public_key_free(p);
}

void release_env(void *p)
{
	ota_envelope_free(p);
}

void release_manifest(void *p)
{
	ota_manifest_free(p);
}
