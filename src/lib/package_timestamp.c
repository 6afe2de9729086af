/*
 * Timestamps for packages: one RFC 3161 token per signature, over that
 * signature's bytes, kept in the unprotected region (package_region.c).
 * The package is read with the same reader as inspect (every structure
 * check, no trust), and rewritten in place with its signed bytes as they
 * were.
 */
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/output.h"
#include "otatool/package.h"
#include "otatool/tsa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The package as inspect reads it: it must be whole and well formed. */
static int read_package(struct ota_package_report *r, const char *path)
{
	struct ota_package_check_opts o = { 0 };
	int rc = ota_package_check(r, path, &o);

	if (rc)
		ota_package_report_clear(r);
	return rc;
}

/* A checked reply's token into the region, for signature i. */
static int keep(struct ota_package_report *r, size_t i, const uint8_t *reply,
		size_t reply_len, const uint8_t *query, size_t query_len,
		const struct ota_cert_list *anchors)
{
	struct ota_tsa_info info;
	uint8_t *token = NULL;
	size_t token_len = 0;
	int rc;

	rc = ota_tsa_reply_check(&token, &token_len, &info, reply, reply_len,
				 query, query_len, r->sigs[i].sig,
				 r->sigs[i].siglen, anchors);
	if (rc)
		return ota_error_wrap(rc, "signature %zu", i);
	rc = ota_package_region_set(&r->region, OTA_REGION_TIMESTAMP,
				    (uint8_t)i, 0, token, token_len);
	free(token);
	return rc;
}

int ota_package_timestamp_fetch(const char *path, const char *url,
				const struct ota_cert_list *tsa_anchors)
{
	struct ota_package_report r;
	int rc;

	if ((rc = read_package(&r, path)))
		return rc;
	for (size_t i = 0; rc == 0 && i < r.n_sigs; i++) {
		uint8_t *query = NULL, *reply = NULL;
		size_t query_len = 0, reply_len = 0;

		rc = ota_tsa_request(&query, &query_len, r.sigs[i].sig,
				     r.sigs[i].siglen);
		if (rc == 0)
			rc = ota_tsa_fetch(&reply, &reply_len, url, query,
					   query_len);
		if (rc == 0)
			rc = keep(&r, i, reply, reply_len, query, query_len,
				  tsa_anchors);
		if (rc)
			rc = ota_error_wrap(rc, "%s", url);
		free(query);
		free(reply);
	}
	if (rc == 0)
		rc = ota_package_region_write(path, path, r.total_size,
					      &r.region);
	ota_package_report_clear(&r);
	return rc;
}

int ota_package_timestamp_requests(const char *path, const char *out)
{
	struct ota_package_report r;
	int rc;

	if ((rc = read_package(&r, path)))
		return rc;
	for (size_t i = 0; rc == 0 && i < r.n_sigs; i++) {
		uint8_t *query = NULL;
		size_t query_len = 0;
		char name[4096];

		if (r.n_sigs == 1)
			snprintf(name, sizeof(name), "%s", out);
		else if (snprintf(name, sizeof(name), "%s.%zu", out, i) >=
			 (int)sizeof(name))
			rc = ota_error(OTA_EUSAGE, "%s: path too long", out);
		if (rc == 0)
			rc = ota_tsa_request(&query, &query_len, r.sigs[i].sig,
					     r.sigs[i].siglen);
		if (rc == 0)
			rc = ota_output_write_file(name, query, query_len, 0644,
						   0);
		free(query);
	}
	ota_package_report_clear(&r);
	return rc;
}

int ota_package_timestamp_add(const char *path, const char *reply_path,
			      const char *query_path,
			      const struct ota_cert_list *tsa_anchors)
{
	struct ota_package_report r;
	char *reply = NULL, *query = NULL;
	size_t reply_len = 0, query_len = 0, i;
	int rc;

	if ((rc = ota_file_read_small(&reply, &reply_len, reply_path,
				      OTA_TSA_MAX_REPLY)))
		return rc;
	if (query_path &&
	    (rc = ota_file_read_small(&query, &query_len, query_path,
				      OTA_TSA_MAX_REPLY)))
		goto out;
	if ((rc = read_package(&r, path)))
		goto out;
	for (i = 0; i < r.n_sigs; i++)
		if (ota_tsa_reply_matches((const uint8_t *)reply, reply_len,
					  r.sigs[i].sig, r.sigs[i].siglen))
			break;
	if (i == r.n_sigs)
		rc = ota_error(OTA_EVERIFY,
			       "%s: the reply is not a timestamp of any of the "
			       "%zu signatures of %s",
			       reply_path, r.n_sigs, path);
	else
		rc = keep(&r, i, (const uint8_t *)reply, reply_len,
			  (const uint8_t *)query, query_len, tsa_anchors);
	if (rc == 0)
		rc = ota_package_region_write(path, path, r.total_size,
					      &r.region);
	else if (i < r.n_sigs)
		rc = ota_error_wrap(rc, "%s", reply_path);
	ota_package_report_clear(&r);
out:
	free(reply);
	free(query);
	return rc;
}
