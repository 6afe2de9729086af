/*
 * Tests' keys are OpenSSL keys; a trust takes public keys. This adds one
 * through the public ota_trust_add_public_key(), as the library's own
 * callers do (the trust keeps a copy).
 */
#ifndef OTATOOL_TEST_TRUSTED_H
#define OTATOOL_TEST_TRUSTED_H

#include "key_priv.h"
#include "otatool/trust.h"

static inline int trust_pkey(struct ota_trust *t, EVP_PKEY *pkey,
			     const char *name)
{
	struct ota_public_key *k = NULL;
	int rc = ota_public_key_from_pkey(&k, pkey);

	if (rc == 0)
		rc = ota_trust_add_public_key(t, k, name);
	ota_public_key_free(k);
	return rc;
}

#endif
