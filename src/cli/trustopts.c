/* Parsing the trust options shared by the verifying commands. */
#include "trustopts.h"

#include "otatool/error.h"
#include "otatool/timestamp.h"

int cli_trust_option(struct ota_trust *t, int c, const char *arg)
{
	int rc;

	switch (c) {
	case CLI_OPT_TRUST_KEY:
		rc = ota_trust_add_key(t, arg);
		break;
	case CLI_OPT_TRUST:
		rc = ota_trust_add_anchors(t, arg);
		break;
	case CLI_OPT_CRL:
		rc = ota_trust_add_crls(t, arg);
		break;
	case CLI_OPT_CRL_REQUIRED:
		t->crl_required = true;
		return 1;
	case CLI_OPT_ALLOW_WEAK:
		t->allow_weak = true;
		return 1;
	case CLI_OPT_AT:
		rc = ota_timestamp_parse(&t->at, arg);
		if (rc) /* a bad option value: a usage error */
			return ota_error_wrap(OTA_EUSAGE, "--at");
		t->has_at = true;
		return 1;
	default:
		return 0;
	}
	return rc ? rc : 1;
}
