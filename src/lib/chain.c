/*
 * Certificate chains for code signing: readers for certificates, CRLs and
 * trust directories, and ota_chain_check, which runs OpenSSL's
 * X509_verify_cert with strict flags and then otatool's own policy, tying
 * every refusal to the certificate that caused it.
 */
#include "chain_priv.h"
#include "json_priv.h"
#include "otatool/digest.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/hex.h"
#include "otatool/timestamp.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define CHAIN_FILE_MAX   (4u << 20) /* thousands of PEM certificates */
#define CHAIN_BUNDLE_MAX 1000       /* certificates or CRLs in one file */
#define TRUST_DIR_MAX    1000       /* certificate files in a directory */
#define CHAIN_LEN_MAX    (OTA_CHAIN_MAX_DEPTH + 2)

/*
 * clang-format takes STACK_OF(X509) **p for a multiplication; these names
 * keep pointer declarations readable (and are the very same types).
 */
typedef STACK_OF(X509) cert_stack;
typedef STACK_OF(X509_CRL) crl_stack;

/*
 * The security level OpenSSL applies when weak algorithms are not allowed:
 * level 2 (112 bits) refuses what the policy below refuses, so it is only a
 * backstop; the policy runs afterwards and says precisely what is weak.
 */
#define CHAIN_AUTH_LEVEL 2

/* ---- Readers ---------------------------------------------------------- */

/* Certificates and CRLs are read by the same code through this table. */
struct reader {
	const char *what; /* "certificate", "CRL" */
	void *(*pem)(BIO *bio);
	void *(*der)(const unsigned char **p, long len);
	void (*release)(void *obj);
};

static void *pem_cert(BIO *bio)
{
	return PEM_read_bio_X509(bio, NULL, NULL, NULL);
}

static void *der_cert(const unsigned char **p, long len)
{
	return d2i_X509(NULL, p, len);
}

static void free_cert(void *obj)
{
	X509_free(obj);
}

static void *pem_crl(BIO *bio)
{
	return PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
}

static void *der_crl(const unsigned char **p, long len)
{
	return d2i_X509_CRL(NULL, p, len);
}

static void free_crl(void *obj)
{
	X509_CRL_free(obj);
}

static const struct reader cert_reader = { "certificate", pem_cert, der_cert,
					   free_cert };
static const struct reader crl_reader = { "CRL", pem_crl, der_crl, free_crl };

/* What has been read so far, moved into the caller's stack on success. */
struct objs {
	void **v;
	size_t n, cap;
};

static int objs_push(struct objs *o, void *obj)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 8;
		void **v = realloc(o->v, cap * sizeof(*v));

		if (!v)
			return ota_error(OTA_EINTERNAL, "out of memory");
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = obj;
	return 0;
}

static void objs_free(struct objs *o, const struct reader *rd)
{
	for (size_t i = 0; i < o->n; i++)
		rd->release(o->v[i]);
	free(o->v);
	o->v = NULL;
	o->n = o->cap = 0;
}

/*
 * Explains why DER did not parse: the outer SEQUENCE header says how long
 * the object should be, which tells a truncated file from a garbled one.
 */
static int der_error(const char *what, const unsigned char *der, size_t len,
		     const char *kind)
{
	const unsigned char *p = der;
	long body = 0;
	int tag = 0, cls = 0, ret;

	if (len > 0 && der[0] == 0x30) {
		ret = ASN1_get_object(&p, &body, &tag, &cls, (long)len);
		ERR_clear_error();
		/* p moves only once the header has been read */
		if (p > der && body >= 0) {
			size_t want = (size_t)(p - der) + (size_t)body;

			if ((ret & 0x80) && want > len)
				return ota_error(OTA_EINPUT,
						 "%s: truncated DER %s (%zu of "
						 "%zu bytes)",
						 what, kind, len, want);
			if (!(ret & 0x80) && want < len)
				return ota_error(OTA_EINPUT,
						 "%s: %zu bytes of garbage "
						 "after the DER %s",
						 what, len - want, kind);
		}
		return ota_error(OTA_EINPUT, "%s: garbled DER %s", what, kind);
	}
	return ota_error(OTA_EINPUT, "%s: not a PEM or DER %s", what, kind);
}

static int read_pem(struct objs *o, const char *path, const char *buf,
		    size_t len, const struct reader *rd)
{
	size_t start = o->n, k;
	BIO *bio;
	int rc = 0;

	bio = BIO_new_mem_buf(buf, (int)len);
	if (!bio)
		return ota_error(OTA_EINTERNAL, "out of memory");
	for (k = 1;; k++) {
		unsigned long e;
		void *obj;

		ERR_clear_error();
		obj = rd->pem(bio);
		if (!obj) {
			/* No further BEGIN line is the end of the bundle;
			 * anything else is a damaged block. */
			e = ERR_peek_last_error();
			if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
				if (o->n == start)
					rc = ota_error(OTA_EINPUT,
						       "%s: no PEM %s in the "
						       "file",
						       path, rd->what);
				break;
			}
			rc = ota_error(OTA_EINPUT,
				       "%s: %s %zu of the bundle is truncated "
				       "or garbled (%s)",
				       path, rd->what, k,
				       ERR_reason_error_string(e)
					   ? ERR_reason_error_string(e)
					   : "unreadable");
			break;
		}
		if (k > CHAIN_BUNDLE_MAX) {
			rd->release(obj);
			rc = ota_error(OTA_EINPUT, "%s: more than %d %ss", path,
				       CHAIN_BUNDLE_MAX, rd->what);
			break;
		}
		rc = objs_push(o, obj);
		if (rc) {
			rd->release(obj);
			break;
		}
	}
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

static bool has_pem_begin(const char *buf, size_t len)
{
	static const char tag[] = "-----BEGIN ";
	const size_t n = sizeof(tag) - 1;

	for (size_t i = 0; i + n <= len; i++) {
		if (buf[i] == '-' && memcmp(buf + i, tag, n) == 0)
			return true;
	}
	return false;
}

/* Appends the PEM objects of path, or its one DER object, to o. */
static int read_objs(struct objs *o, const char *path, const struct reader *rd)
{
	const unsigned char *p;
	char *buf = NULL;
	void *obj = NULL;
	size_t len = 0;
	int rc;

	rc = ota_file_read_small(&buf, &len, path, CHAIN_FILE_MAX);
	if (rc)
		return rc;
	if (len == 0) {
		rc = ota_error(OTA_EINPUT, "%s: empty file, not a %s", path,
			       rd->what);
		goto out;
	}
	/* DER starts with a SEQUENCE; a PEM file may have text before it. */
	if ((unsigned char)buf[0] == 0x30) {
		p = (const unsigned char *)buf;
		obj = rd->der(&p, (long)len);
		ERR_clear_error();
		if (obj && p == (const unsigned char *)buf + len) {
			rc = objs_push(o, obj);
			if (!rc)
				obj = NULL;
			goto out;
		}
		rd->release(obj);
		obj = NULL;
	}
	if (has_pem_begin(buf, len)) {
		rc = read_pem(o, path, buf, len, rd);
		goto out;
	}
	rc = der_error(path, (const unsigned char *)buf, len, rd->what);
out:
	rd->release(obj);
	free(buf);
	return rc;
}

static int certs_append(cert_stack **certs, struct objs *o)
{
	STACK_OF(X509) *sk = *certs ? *certs : sk_X509_new_null();

	/* Reserve first so that the pushes below cannot fail halfway. */
	if (!sk || !sk_X509_reserve(sk, (int)o->n)) {
		if (sk != *certs)
			sk_X509_free(sk);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	for (size_t i = 0; i < o->n; i++)
		sk_X509_push(sk, o->v[i]);
	o->n = 0;
	*certs = sk;
	return 0;
}

int ota_chain_read_certs(cert_stack **certs, const char *path)
{
	struct objs o = { 0 };
	int rc;

	rc = read_objs(&o, path, &cert_reader);
	if (!rc)
		rc = certs_append(certs, &o);
	objs_free(&o, &cert_reader);
	return rc;
}

int ota_chain_read_crls(crl_stack **crls, const char *path)
{
	STACK_OF(X509_CRL) *sk = NULL;
	struct objs o = { 0 };
	int rc;

	rc = read_objs(&o, path, &crl_reader);
	if (rc)
		goto out;
	sk = *crls ? *crls : sk_X509_CRL_new_null();
	if (!sk || !sk_X509_CRL_reserve(sk, (int)o.n)) {
		if (sk != *crls)
			sk_X509_CRL_free(sk);
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < o.n; i++)
		sk_X509_CRL_push(sk, o.v[i]);
	o.n = 0;
	*crls = sk;
out:
	objs_free(&o, &crl_reader);
	return rc;
}

int ota_chain_cert_from_der(X509 **out, const uint8_t *der, size_t len,
			    const char *what)
{
	const unsigned char *p = der;
	X509 *x;

	*out = NULL;
	if (len == 0 || len > CHAIN_FILE_MAX)
		return ota_error(OTA_EINPUT,
				 "%s: a DER certificate of %zu bytes is "
				 "implausible",
				 what, len);
	x = d2i_X509(NULL, &p, (long)len);
	ERR_clear_error();
	if (!x)
		return der_error(what, der, len, "certificate");
	if (p != der + len) {
		X509_free(x);
		return ota_error(OTA_EINPUT,
				 "%s: %zu bytes of garbage after the DER "
				 "certificate",
				 what, (size_t)(der + len - p));
	}
	*out = x;
	return 0;
}

static bool trust_file_name(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (name[0] == '.' || !dot)
		return false;
	return !strcasecmp(dot, ".pem") || !strcasecmp(dot, ".crt") ||
	       !strcasecmp(dot, ".cer") || !strcasecmp(dot, ".der");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_trust_dir(struct objs *o, const char *dir)
{
	char **names = NULL, *full = NULL;
	struct dirent *e;
	size_t n = 0, i;
	DIR *d;
	int rc = 0;

	d = opendir(dir);
	if (!d)
		return ota_error(OTA_EINPUT, "%s: cannot open directory: %s",
				 dir, strerror(errno));
	names = calloc(TRUST_DIR_MAX, sizeof(*names));
	if (!names) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (!e)
			break;
		if (!trust_file_name(e->d_name))
			continue;
		if (n == TRUST_DIR_MAX) {
			rc = ota_error(OTA_EINPUT,
				       "%s: more than %d certificate files",
				       dir, TRUST_DIR_MAX);
			goto out;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			rc = ota_error(OTA_EINTERNAL, "out of memory");
			goto out;
		}
		n++;
	}
	if (errno) {
		rc = ota_error(OTA_EINPUT, "%s: cannot read directory: %s", dir,
			       strerror(errno));
		goto out;
	}
	/* readdir's order is the file system's; make the result stable. */
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		size_t need = strlen(dir) + strlen(names[i]) + 2;
		struct stat st;

		free(full);
		full = malloc(need);
		if (!full) {
			rc = ota_error(OTA_EINTERNAL, "out of memory");
			goto out;
		}
		snprintf(full, need, "%s/%s", dir, names[i]);
		/* Not recursive: a subdirectory named x.pem is skipped. */
		if (stat(full, &st) == 0 && !S_ISREG(st.st_mode))
			continue;
		rc = read_objs(o, full, &cert_reader);
		if (rc)
			goto out;
	}
	if (o->n == 0)
		rc = ota_error(OTA_EINPUT,
			       "%s: no certificate files (*.pem, *.crt, *.cer, "
			       "*.der) in the directory",
			       dir);
out:
	if (names) {
		for (i = 0; i < n; i++)
			free(names[i]);
	}
	free(names);
	free(full);
	closedir(d);
	return rc;
}

int ota_chain_read_trust(cert_stack **anchors, const char *path)
{
	struct objs o = { 0 };
	struct stat st;
	int rc;

	if (stat(path, &st) != 0)
		return ota_error(OTA_EINPUT, "%s: cannot open: %s", path,
				 strerror(errno));
	if (S_ISDIR(st.st_mode))
		rc = read_trust_dir(&o, path);
	else
		rc = read_objs(&o, path, &cert_reader);
	if (!rc)
		rc = certs_append(anchors, &o);
	objs_free(&o, &cert_reader);
	return rc;
}

/* ---- Describing certificates ------------------------------------------ */

/*
 * One-line RFC 2253 form. XN_FLAG_RFC2253 escapes control characters and
 * non-ASCII bytes, so the result is printable ASCII, safe in a terminal and
 * in JSON; the remaining check only guards against surprises.
 */
static void name_str(char *buf, size_t size, const X509_NAME *nm)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n = 0;
	size_t i, len;

	buf[0] = '\0';
	if (!bio)
		return;
	if (nm && X509_NAME_print_ex(bio, nm, 0, XN_FLAG_RFC2253) >= 0)
		n = BIO_get_mem_data(bio, &data);
	len = n > 0 ? (size_t)n : 0;
	if (len >= size)
		len = size - 1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	buf[len] = '\0';
	if (len == 0 && size > 2)
		snprintf(buf, size, "%s", "(empty name)");
	BIO_free(bio);
}

void ota_chain_subject(char *buf, size_t size, X509 *cert)
{
	name_str(buf, size, X509_get_subject_name(cert));
}

static bool asn1_time_epoch(int64_t *out, const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return false;
	*out = (int64_t)timegm(&tm);
	return true;
}

static void time_str(char buf[OTA_TIMESTAMP_LEN], const ASN1_TIME *t)
{
	int64_t v;

	if (!asn1_time_epoch(&v, t) || ota_timestamp_format(buf, v) != 0)
		snprintf(buf, OTA_TIMESTAMP_LEN, "%s", "(invalid time)");
}

static void serial_str(char *buf, size_t size, const ASN1_INTEGER *serial)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(buf, size, "%s", hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

/* "EC P-256", "RSA 3072", "Ed25519": the key as a person names it. */
static void key_str(char *buf, size_t size, EVP_PKEY *pk)
{
	char group[64];
	const char *nist;

	if (!pk) {
		snprintf(buf, size, "%s", "unknown");
	} else if (EVP_PKEY_is_a(pk, "RSA")) {
		snprintf(buf, size, "RSA %d", EVP_PKEY_get_bits(pk));
	} else if (EVP_PKEY_is_a(pk, "RSA-PSS")) {
		snprintf(buf, size, "RSA-PSS %d", EVP_PKEY_get_bits(pk));
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		if (!EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL)) {
			snprintf(buf, size, "%s", "EC explicit curve");
		} else {
			nist = EC_curve_nid2nist(OBJ_txt2nid(group));
			snprintf(buf, size, "EC %.24s", nist ? nist : group);
		}
	} else if (EVP_PKEY_is_a(pk, "ED25519")) {
		snprintf(buf, size, "%s", "Ed25519");
	} else if (EVP_PKEY_is_a(pk, "ED448")) {
		snprintf(buf, size, "%s", "Ed448");
	} else {
		snprintf(buf, size, "%s %d",
			 EVP_PKEY_get0_type_name(pk)
			     ? EVP_PKEY_get0_type_name(pk)
			     : "unknown",
			 EVP_PKEY_get_bits(pk));
	}
	ERR_clear_error();
}

static bool is_anchor(X509 *x, const cert_stack *anchors)
{
	for (int i = 0; i < sk_X509_num(anchors); i++) {
		if (X509_cmp(x, sk_X509_value(anchors, i)) == 0)
			return true;
	}
	return false;
}

static int fill_cert(struct ota_chain_cert *c, X509 *x,
		     const cert_stack *anchors)
{
	struct ota_digest d;
	unsigned char *der = NULL;
	int len, rc;

	name_str(c->subject, sizeof(c->subject), X509_get_subject_name(x));
	name_str(c->issuer, sizeof(c->issuer), X509_get_issuer_name(x));
	serial_str(c->serial, sizeof(c->serial), X509_get0_serialNumber(x));
	time_str(c->not_before, X509_get0_notBefore(x));
	time_str(c->not_after, X509_get0_notAfter(x));
	key_str(c->key, sizeof(c->key), X509_get0_pubkey(x));
	c->trusted = is_anchor(x, anchors);
	len = i2d_X509(x, &der);
	if (len <= 0)
		return ota_error(OTA_EINTERNAL,
				 "certificate \"%s\" cannot be encoded",
				 c->subject);
	rc = ota_digest_buffer(&d, OTA_DIGEST_SHA256, der, (size_t)len);
	OPENSSL_free(der);
	if (rc)
		return rc;
	ota_hex_encode(c->fingerprint, d.bytes, d.len);
	return 0;
}

/* "digitalSignature, keyEncipherment", for messages. */
static void ku_str(char *buf, size_t size, uint32_t ku)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} bits[] = {
		{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
		{ KU_NON_REPUDIATION, "nonRepudiation" },
		{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
		{ KU_KEY_AGREEMENT, "keyAgreement" },
		{ KU_KEY_CERT_SIGN, "keyCertSign" },
		{ KU_CRL_SIGN, "cRLSign" },
		{ KU_ENCIPHER_ONLY, "encipherOnly" },
		{ KU_DECIPHER_ONLY, "decipherOnly" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		int n;

		if (!(ku & bits[i].bit))
			continue;
		n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
			     bits[i].name);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	if (!used)
		snprintf(buf, size, "%s", "none");
}

/* "serverAuth, clientAuth", for messages. */
static void eku_str(char *buf, size_t size, X509 *x)
{
	EXTENDED_KEY_USAGE *eku;
	size_t used = 0;

	buf[0] = '\0';
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		ASN1_OBJECT *obj = sk_ASN1_OBJECT_value(eku, i);
		char oid[80];
		int nid = OBJ_obj2nid(obj), n;

		if (nid != NID_undef)
			snprintf(oid, sizeof(oid), "%s", OBJ_nid2sn(nid));
		else if (OBJ_obj2txt(oid, sizeof(oid), obj, 1) <= 0)
			snprintf(oid, sizeof(oid), "%s", "?");
		n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
			     oid);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	ERR_clear_error();
	if (!used)
		snprintf(buf, size, "%s", "empty");
}

/* ---- Verification ----------------------------------------------------- */

/* What the verify callback saw: the first refusal and where. */
struct verify_state {
	bool crl_required;
	int err; /* first X509_V_ERR_* refused, X509_V_OK if none */
	int depth;
	X509 *cert;    /* the certificate at fault, owned */
	X509_CRL *crl; /* the CRL involved in a CRL error, owned */
	int weak_err;  /* first security-level complaint (tolerated) */
	int weak_depth;
};

static bool is_crl_error(int err)
{
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
	case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
	case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
		return true;
	default:
		return false;
	}
}

static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	struct verify_state *st = X509_STORE_CTX_get_app_data(ctx);
	int err = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	X509_CRL *crl;
	X509 *cert;

	if (ok)
		return 1;
	switch (err) {
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_CA_MD_TOO_WEAK:
		/* The policy names the weak algorithm; keep this as a
		 * backstop in case the policy does not see it. */
		if (st->weak_err == X509_V_OK) {
			st->weak_err = err;
			st->weak_depth = depth;
		}
		return 1;
	case X509_V_ERR_CRL_NOT_YET_VALID:
		/*
		 * A package is checked at its signing time, and a CRL issued
		 * since then is the newest word on revocation: used, not
		 * refused for being younger than the signature.
		 */
		return 1;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		/*
		 * CRLs that were not asked for are checked when given, not
		 * demanded. The trust anchor (last in the chain) needs none:
		 * nothing above it could have revoked it.
		 */
		if (!st->crl_required ||
		    depth >= sk_X509_num(X509_STORE_CTX_get0_chain(ctx)) - 1)
			return 1;
		break;
	default:
		break;
	}
	if (st->err != X509_V_OK)
		return 0;
	st->err = err != X509_V_OK ? err : X509_V_ERR_UNSPECIFIED;
	st->depth = depth;
	cert = X509_STORE_CTX_get_current_cert(ctx);
	if (cert && X509_up_ref(cert))
		st->cert = cert;
	crl = X509_STORE_CTX_get0_current_crl(ctx);
	if (crl && (err == X509_V_ERR_CERT_REVOKED || is_crl_error(err)) &&
	    X509_CRL_up_ref(crl))
		st->crl = crl;
	return 0;
}

static void refuse(struct ota_chain_report *r, enum ota_chain_reason reason,
		   int depth, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the refusal unless an earlier, more important one was recorded. */
static void refuse(struct ota_chain_report *r, enum ota_chain_reason reason,
		   int depth, const char *fmt, ...)
{
	va_list ap;

	if (r->reason != OTA_CHAIN_OK)
		return;
	r->reason = reason;
	r->fail_depth = depth;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

/* A certificate that signed the one below it: CA:TRUE and keyCertSign. */
static void explain_issuer(struct ota_chain_report *r, X509 *x, int depth,
			   const char *subj, int err)
{
	uint32_t fl = X509_get_extension_flags(x);
	char ku[160];

	if (!(fl & EXFLAG_CA)) {
		refuse(r, OTA_CHAIN_NOT_CA, depth,
		       "certificate \"%s\" (depth %d) is not a CA (%s)", subj,
		       depth,
		       fl & EXFLAG_BCONS ? "basicConstraints CA:FALSE"
					 : "no basicConstraints extension");
	} else if (!(fl & EXFLAG_KUSAGE)) {
		refuse(r, OTA_CHAIN_NO_KEY_CERT_SIGN, depth,
		       "certificate \"%s\" (depth %d) is a CA without a "
		       "keyUsage extension: an issuer needs keyCertSign",
		       subj, depth);
	} else if (!(X509_get_key_usage(x) & KU_KEY_CERT_SIGN)) {
		ku_str(ku, sizeof(ku), X509_get_key_usage(x));
		refuse(r, OTA_CHAIN_NO_KEY_CERT_SIGN, depth,
		       "certificate \"%s\" (depth %d) may not sign "
		       "certificates: its keyUsage (%s) lacks keyCertSign",
		       subj, depth, ku);
	} else if (err != X509_V_OK) {
		refuse(r, OTA_CHAIN_NOT_CA, depth,
		       "certificate \"%s\" (depth %d) is not usable as a CA: "
		       "%s",
		       subj, depth, X509_verify_cert_error_string(err));
	}
}

static void explain_crl(struct ota_chain_report *r,
			const struct verify_state *st, const char *subj,
			const char *at)
{
	char issuer[256], t[OTA_TIMESTAMP_LEN];
	int d = st->depth;

	if (st->crl)
		name_str(issuer, sizeof(issuer), X509_CRL_get_issuer(st->crl));
	else
		name_str(issuer, sizeof(issuer),
			 st->cert ? X509_get_issuer_name(st->cert) : NULL);
	switch (st->err) {
	case X509_V_ERR_CRL_HAS_EXPIRED:
		time_str(t, st->crl ? X509_CRL_get0_nextUpdate(st->crl) : NULL);
		refuse(r, OTA_CHAIN_CRL_INVALID, d,
		       "the CRL of \"%s\", which covers certificate \"%s\" "
		       "(depth %d), expired at %s (checked at %s)",
		       issuer, subj, d, t, at);
		break;
	case X509_V_ERR_CRL_NOT_YET_VALID:
		time_str(t, st->crl ? X509_CRL_get0_lastUpdate(st->crl) : NULL);
		refuse(r, OTA_CHAIN_CRL_INVALID, d,
		       "the CRL of \"%s\", which covers certificate \"%s\" "
		       "(depth %d), is not valid before %s (checked at %s)",
		       issuer, subj, d, t, at);
		break;
	default:
		refuse(r, OTA_CHAIN_CRL_INVALID, d,
		       "the CRL of \"%s\", which covers certificate \"%s\" "
		       "(depth %d), is unusable: %s",
		       issuer, subj, d, X509_verify_cert_error_string(st->err));
		break;
	}
}

static void explain_revoked(struct ota_chain_report *r,
			    const struct verify_state *st, const char *subj)
{
	char issuer[256], serial[80], when[OTA_TIMESTAMP_LEN + 10] = "";
	X509_REVOKED *rev = NULL;

	name_str(issuer, sizeof(issuer),
		 st->crl ? X509_CRL_get_issuer(st->crl)
			 : X509_get_issuer_name(st->cert));
	serial_str(serial, sizeof(serial), X509_get0_serialNumber(st->cert));
	if (st->crl && X509_CRL_get0_by_cert(st->crl, &rev, st->cert) > 0 &&
	    rev) {
		char t[OTA_TIMESTAMP_LEN];

		time_str(t, X509_REVOKED_get0_revocationDate(rev));
		snprintf(when, sizeof(when), ", since %s", t);
	}
	refuse(r, OTA_CHAIN_REVOKED, st->depth,
	       "certificate \"%s\" (depth %d) is revoked by the CRL of \"%s\" "
	       "(serial %s%s)",
	       subj, st->depth, issuer, serial, when);
}

/* Turns OpenSSL's first refusal into a reason and a message. */
static void explain_x509(struct ota_chain_report *r,
			 const struct verify_state *st,
			 const struct ota_chain_input *in, const char *at)
{
	char subj[256], other[256], t[OTA_TIMESTAMP_LEN];
	int d = st->depth;
	long pathlen;

	if (!st->cert) {
		refuse(r, OTA_CHAIN_INVALID, d,
		       "certificate at depth %d refused: %s", d,
		       X509_verify_cert_error_string(st->err));
		return;
	}
	name_str(subj, sizeof(subj), X509_get_subject_name(st->cert));
	switch (st->err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		time_str(t, X509_get0_notAfter(st->cert));
		refuse(r, OTA_CHAIN_EXPIRED, d,
		       "certificate \"%s\" (depth %d) expired at %s (checked "
		       "at %s)",
		       subj, d, t, at);
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		time_str(t, X509_get0_notBefore(st->cert));
		refuse(r, OTA_CHAIN_NOT_YET_VALID, d,
		       "certificate \"%s\" (depth %d) is not valid before %s "
		       "(checked at %s)",
		       subj, d, t, at);
		break;
	case X509_V_ERR_INVALID_CA:
	case X509_V_ERR_INVALID_NON_CA:
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
	case X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA:
	case X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN:
	case X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA:
	case X509_V_ERR_CA_BCONS_NOT_CRITICAL:
	case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE:
		/* For the signer these are structural faults, not a CA
		 * question; for an issuer its extensions tell which. */
		if (d > 0) {
			explain_issuer(r, st->cert, d, subj, st->err);
			break;
		}
		refuse(r, OTA_CHAIN_INVALID, d,
		       "certificate \"%s\" (depth %d) is malformed: %s", subj,
		       d, X509_verify_cert_error_string(st->err));
		break;
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
		pathlen = X509_get_pathlen(st->cert);
		refuse(r, OTA_CHAIN_PATH_LENGTH, d,
		       "certificate \"%s\" (depth %d) allows at most %ld "
		       "intermediate CA(s) below it (pathLenConstraint %ld), "
		       "but the chain has %d",
		       subj, d, pathlen, pathlen, d > 0 ? d - 1 : 0);
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		name_str(other, sizeof(other), X509_get_issuer_name(st->cert));
		refuse(r, OTA_CHAIN_UNKNOWN_ISSUER, d,
		       "no issuer \"%s\" found for certificate \"%s\" (depth "
		       "%d) among the intermediates and trust anchors%s",
		       other, subj, d,
		       sk_X509_num(in->anchors) > 0
			   ? ""
			   : " (no trust anchors were given)");
		break;
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		refuse(r, OTA_CHAIN_UNTRUSTED_ROOT, d,
		       "chain ends at root \"%s\" (depth %d), which is not a "
		       "trust anchor",
		       subj, d);
		break;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		refuse(r, OTA_CHAIN_SELF_SIGNED_LEAF, d,
		       "certificate \"%s\" (depth %d) is self-signed: a "
		       "signing certificate must be issued by a CA",
		       subj, d);
		break;
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
		refuse(r, OTA_CHAIN_UNTRUSTED_ROOT, d,
		       "certificate \"%s\" (depth %d) is not trusted: %s", subj,
		       d, X509_verify_cert_error_string(st->err));
		break;
	case X509_V_ERR_CERT_REVOKED:
		explain_revoked(r, st, subj);
		break;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		name_str(other, sizeof(other), X509_get_issuer_name(st->cert));
		refuse(r, OTA_CHAIN_CRL_MISSING, d,
		       "no CRL from \"%s\" for certificate \"%s\" (depth %d), "
		       "and CRLs are required",
		       other, subj, d);
		break;
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
		name_str(other, sizeof(other), X509_get_issuer_name(st->cert));
		refuse(r, OTA_CHAIN_BAD_SIGNATURE, d,
		       "certificate \"%s\" (depth %d) has an invalid "
		       "signature: the key of \"%s\" did not sign it",
		       subj, d, other);
		break;
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
		refuse(r, OTA_CHAIN_INVALID, d,
		       "chain above certificate \"%s\" (depth %d) is longer "
		       "than %d intermediates",
		       subj, d, OTA_CHAIN_MAX_DEPTH);
		break;
	default:
		if (is_crl_error(st->err)) {
			explain_crl(r, st, subj, at);
			break;
		}
		refuse(r, OTA_CHAIN_INVALID, d,
		       "certificate \"%s\" (depth %d) refused: %s", subj, d,
		       X509_verify_cert_error_string(st->err));
		break;
	}
}

/* ---- otatool's policy ------------------------------------------------- */

static void check_signer_usage(struct ota_chain_report *r, X509 *x,
			       const char *subj)
{
	uint32_t fl = X509_get_extension_flags(x);
	char buf[160];

	if (!(fl & EXFLAG_KUSAGE)) {
		refuse(r, OTA_CHAIN_NO_DIGITAL_SIGNATURE, 0,
		       "certificate \"%s\" (depth 0) has no keyUsage "
		       "extension: a signing certificate needs "
		       "digitalSignature",
		       subj);
	} else if (!(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE)) {
		ku_str(buf, sizeof(buf), X509_get_key_usage(x));
		refuse(r, OTA_CHAIN_NO_DIGITAL_SIGNATURE, 0,
		       "certificate \"%s\" (depth 0) keyUsage (%s) lacks "
		       "digitalSignature",
		       subj, buf);
	}
	/* The signer must say codeSigning itself: anyExtendedKeyUsage
	 * would make any TLS certificate of the CA a firmware signer. */
	if (!(fl & EXFLAG_XKUSAGE)) {
		refuse(r, OTA_CHAIN_NO_CODE_SIGNING, 0,
		       "certificate \"%s\" (depth 0) has no extendedKeyUsage "
		       "extension: a signing certificate needs codeSigning",
		       subj);
	} else if (!(X509_get_extended_key_usage(x) & XKU_CODE_SIGN)) {
		eku_str(buf, sizeof(buf), x);
		refuse(r, OTA_CHAIN_NO_CODE_SIGNING, 0,
		       "certificate \"%s\" (depth 0) extendedKeyUsage (%s) "
		       "lacks codeSigning",
		       subj, buf);
	}
}

static void check_issuer_usage(struct ota_chain_report *r, X509 *x, int depth,
			       const char *subj)
{
	uint32_t fl = X509_get_extension_flags(x);
	char buf[160];

	explain_issuer(r, x, depth, subj, X509_V_OK);
	/* An EKU on a CA constrains everything below it (the common
	 * reading, as in Windows and Mozilla). */
	if ((fl & EXFLAG_XKUSAGE) &&
	    !(X509_get_extended_key_usage(x) & (XKU_CODE_SIGN | XKU_ANYEKU))) {
		eku_str(buf, sizeof(buf), x);
		refuse(r, OTA_CHAIN_NO_CODE_SIGNING, depth,
		       "CA certificate \"%s\" (depth %d) restricts "
		       "extendedKeyUsage to %s, which excludes codeSigning",
		       subj, depth, buf);
	}
}

static void check_key_strength(struct ota_chain_report *r, X509 *x, int depth,
			       const char *subj, const char *key)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	char group[64];
	int nid;

	if (!pk) {
		refuse(r, OTA_CHAIN_WEAK_ALGORITHM, depth,
		       "certificate \"%s\" (depth %d) has a public key "
		       "OpenSSL cannot decode",
		       subj, depth);
	} else if (EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_is_a(pk, "RSA-PSS")) {
		if (EVP_PKEY_get_bits(pk) < 2048)
			refuse(r, OTA_CHAIN_WEAK_ALGORITHM, depth,
			       "certificate \"%s\" (depth %d) has an %s key: "
			       "RSA keys need at least 2048 bits",
			       subj, depth, key);
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		nid = EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL)
			  ? OBJ_txt2nid(group)
			  : NID_undef;
		if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1 &&
		    nid != NID_secp521r1)
			refuse(r, OTA_CHAIN_WEAK_ALGORITHM, depth,
			       "certificate \"%s\" (depth %d) has an %s key: "
			       "only the curves P-256, P-384 and P-521 are "
			       "accepted",
			       subj, depth, key);
	} else if (!EVP_PKEY_is_a(pk, "ED25519") &&
		   !EVP_PKEY_is_a(pk, "ED448")) {
		refuse(r, OTA_CHAIN_WEAK_ALGORITHM, depth,
		       "certificate \"%s\" (depth %d) has a %s key: only RSA, "
		       "EC P-256/P-384/P-521, Ed25519 and Ed448 keys are "
		       "accepted",
		       subj, depth, key);
	}
	ERR_clear_error();
}

static void check_sig_strength(struct ota_chain_report *r, X509 *x, int depth,
			       const char *subj)
{
	int mdnid = NID_undef, pknid = NID_undef, secbits = 0;
	uint32_t flags = 0;
	const char *alg = OBJ_nid2ln(X509_get_signature_nid(x));

	if (!alg)
		alg = "an unknown algorithm";
	if (!X509_get_signature_info(x, &mdnid, &pknid, &secbits, &flags)) {
		ERR_clear_error();
		refuse(r, OTA_CHAIN_WEAK_ALGORITHM, depth,
		       "certificate \"%s\" (depth %d) is signed with %s, "
		       "which otatool cannot assess",
		       subj, depth, alg);
		return;
	}
	switch (mdnid) {
	case NID_md2:
	case NID_md4:
	case NID_md5:
	case NID_md5_sha1:
	case NID_sha1:
		refuse(r, OTA_CHAIN_WEAK_ALGORITHM, depth,
		       "certificate \"%s\" (depth %d) is signed with %s: MD5 "
		       "and SHA-1 signatures are refused",
		       subj, depth, alg);
		break;
	default:
		break;
	}
}

/* Runs the policy on certs[0..n): signer first, trust anchor (if any) last. */
static void check_policy(struct ota_chain_report *r, X509 *const *certs,
			 size_t n, const struct ota_chain_input *in)
{
	for (size_t i = 0; i < n; i++) {
		const struct ota_chain_cert *c = &r->certs[i];
		int depth = (int)i;

		if (i == 0)
			check_signer_usage(r, certs[i], c->subject);
		else
			check_issuer_usage(r, certs[i], depth, c->subject);
		if (in->allow_weak)
			continue;
		check_key_strength(r, certs[i], depth, c->subject, c->key);
		/* An anchor's own signature is never relied upon. */
		if (!c->trusted)
			check_sig_strength(r, certs[i], depth, c->subject);
	}
}

static void check_signing_key(struct ota_chain_report *r,
			      const struct ota_chain_input *in)
{
	EVP_PKEY *pub = X509_get0_pubkey(in->signer);
	char key[32];

	if (!in->signing_key ||
	    (pub && EVP_PKEY_eq(in->signing_key, pub) == 1)) {
		ERR_clear_error();
		return;
	}
	ERR_clear_error();
	key_str(key, sizeof(key), in->signing_key);
	if (strcmp(key, r->certs[0].key) != 0)
		refuse(r, OTA_CHAIN_KEY_MISMATCH, 0,
		       "the signing key (%s) does not match certificate "
		       "\"%s\" (depth 0), whose key is %s",
		       key, r->certs[0].subject, r->certs[0].key);
	else
		refuse(r, OTA_CHAIN_KEY_MISMATCH, 0,
		       "the signing key does not match certificate \"%s\" "
		       "(depth 0): both are %s but the public keys differ",
		       r->certs[0].subject, key);
}

static int setup_ctx(X509_STORE_CTX *ctx, X509_STORE *store,
		     const struct ota_chain_input *in, struct verify_state *st)
{
	X509_VERIFY_PARAM *param;
	unsigned long flags =
	    X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN;

	for (int i = 0; i < sk_X509_num(in->anchors); i++) {
		if (!X509_STORE_add_cert(store, sk_X509_value(in->anchors, i)))
			return ota_error(OTA_EINTERNAL,
					 "cannot add trust anchor %d", i + 1);
	}
	if (!X509_STORE_CTX_init(ctx, store, in->signer, in->intermediates))
		return ota_error(OTA_EINTERNAL,
				 "cannot set up certificate verification");
	param = X509_STORE_CTX_get0_param(ctx);
	if (sk_X509_CRL_num(in->crls) > 0 || in->crl_required) {
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
		X509_STORE_CTX_set0_crls(ctx, in->crls);
	}
	X509_VERIFY_PARAM_set_flags(param, flags);
	X509_VERIFY_PARAM_set_time(param, (time_t)in->at);
	X509_VERIFY_PARAM_set_depth(param, OTA_CHAIN_MAX_DEPTH);
	/* With allow_weak our policy alone decides; otherwise OpenSSL's
	 * level is a backstop whose complaints the callback tolerates. */
	X509_VERIFY_PARAM_set_auth_level(param,
					 in->allow_weak ? 0 : CHAIN_AUTH_LEVEL);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	if (!X509_STORE_CTX_set_app_data(ctx, st))
		return ota_error(OTA_EINTERNAL,
				 "cannot set up certificate verification");
	return 0;
}

int ota_chain_check(struct ota_chain_report *report,
		    const struct ota_chain_input *in)
{
	struct verify_state st = { 0 };
	X509 *certs[CHAIN_LEN_MAX];
	X509_STORE_CTX *ctx = NULL;
	X509_STORE *store = NULL;
	cert_stack *chain;
	char at[OTA_TIMESTAMP_LEN];
	size_t n = 0;
	int rc, ok;

	memset(report, 0, sizeof(*report));
	report->reason = OTA_CHAIN_OK;
	report->fail_depth = -1;
	if (!in || !in->signer) {
		rc = ota_error(OTA_EINPUT, "no signing certificate to check");
		goto out;
	}
	rc = ota_timestamp_format(at, in->at);
	if (rc)
		goto out;
	st.crl_required = in->crl_required;
	st.err = X509_V_OK;
	st.weak_err = X509_V_OK;
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (!store || !ctx) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	rc = setup_ctx(ctx, store, in, &st);
	if (rc)
		goto out;
	ok = X509_verify_cert(ctx);
	if (ok <= 0 && st.err == X509_V_OK) {
		rc = ota_error(OTA_EINTERNAL,
			       "certificate verification failed: %s",
			       X509_verify_cert_error_string(
				   X509_STORE_CTX_get_error(ctx)));
		goto out;
	}

	/* The chain as built, or as far as building got. */
	chain = X509_STORE_CTX_get0_chain(ctx);
	for (int i = 0; i < sk_X509_num(chain) && n < CHAIN_LEN_MAX; i++)
		certs[n++] = sk_X509_value(chain, i);
	if (n == 0)
		certs[n++] = in->signer;
	for (size_t i = 0; i < n; i++) {
		rc = fill_cert(&report->certs[i], certs[i], in->anchors);
		if (rc)
			goto out;
		report->n_certs = i + 1;
	}

	/* In order of importance: the first refusal recorded wins. */
	if (X509_self_signed(in->signer, 1) == 1)
		refuse(report, OTA_CHAIN_SELF_SIGNED_LEAF, 0,
		       "certificate \"%s\" (depth 0) is self-signed: a signing "
		       "certificate must be issued by a CA",
		       report->certs[0].subject);
	check_signing_key(report, in);
	if (st.err != X509_V_OK)
		explain_x509(report, &st, in, at);
	check_policy(report, certs, n, in);
	if (st.weak_err != X509_V_OK) {
		int d = st.weak_depth;

		refuse(report, OTA_CHAIN_WEAK_ALGORITHM, d,
		       "certificate \"%s\" (depth %d) is below OpenSSL's "
		       "security level %d: %s",
		       d >= 0 && (size_t)d < report->n_certs
			   ? report->certs[d].subject
			   : "?",
		       d, CHAIN_AUTH_LEVEL,
		       X509_verify_cert_error_string(st.weak_err));
	}
	if (report->reason != OTA_CHAIN_OK)
		rc = ota_error(OTA_EUNTRUSTED, "%s", report->message);
out:
	if (rc && report->reason == OTA_CHAIN_OK) {
		/* Could not check at all: never leave "trusted" behind. */
		report->reason = OTA_CHAIN_INVALID;
		snprintf(report->message, sizeof(report->message), "%s",
			 ota_error_message());
	}
	X509_free(st.cert);
	X509_CRL_free(st.crl);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return rc;
}

/* ---- Names and JSON --------------------------------------------------- */

const char *ota_chain_reason_name(enum ota_chain_reason r)
{
	switch (r) {
	case OTA_CHAIN_OK:
		return "ok";
	case OTA_CHAIN_EXPIRED:
		return "expired";
	case OTA_CHAIN_NOT_YET_VALID:
		return "not-yet-valid";
	case OTA_CHAIN_NO_CODE_SIGNING:
		return "no-code-signing";
	case OTA_CHAIN_NO_DIGITAL_SIGNATURE:
		return "no-digital-signature";
	case OTA_CHAIN_NOT_CA:
		return "not-ca";
	case OTA_CHAIN_NO_KEY_CERT_SIGN:
		return "no-key-cert-sign";
	case OTA_CHAIN_PATH_LENGTH:
		return "path-length";
	case OTA_CHAIN_UNKNOWN_ISSUER:
		return "unknown-issuer";
	case OTA_CHAIN_UNTRUSTED_ROOT:
		return "untrusted-root";
	case OTA_CHAIN_REVOKED:
		return "revoked";
	case OTA_CHAIN_CRL_MISSING:
		return "crl-missing";
	case OTA_CHAIN_CRL_INVALID:
		return "crl-invalid";
	case OTA_CHAIN_WEAK_ALGORITHM:
		return "weak-algorithm";
	case OTA_CHAIN_SELF_SIGNED_LEAF:
		return "self-signed-leaf";
	case OTA_CHAIN_KEY_MISMATCH:
		return "key-mismatch";
	case OTA_CHAIN_BAD_SIGNATURE:
		return "bad-signature";
	case OTA_CHAIN_INVALID:
		return "invalid";
	}
	return "invalid";
}

static json_t *cert_json(const struct ota_chain_cert *c, size_t depth)
{
	json_t *o = json_object();
	int bad = !o;

	bad |= json_object_set_new(o, "depth", json_integer((json_int_t)depth));
	bad |= json_object_set_new(o, "subject", json_string(c->subject));
	bad |= json_object_set_new(o, "issuer", json_string(c->issuer));
	bad |= json_object_set_new(o, "serial", json_string(c->serial));
	bad |= json_object_set_new(o, "not_before", json_string(c->not_before));
	bad |= json_object_set_new(o, "not_after", json_string(c->not_after));
	bad |= json_object_set_new(o, "key", json_string(c->key));
	bad |= json_object_set_new(o, "sha256", json_string(c->fingerprint));
	bad |= json_object_set_new(o, "trusted", json_boolean(c->trusted));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *ota_chain_report_json(const struct ota_chain_report *report)
{
	bool ok = report->reason == OTA_CHAIN_OK;
	json_t *root = json_object(), *certs = json_array();
	int bad = !root || !certs;
	size_t n = report->n_certs;

	if (n > OTA_CHAIN_MAX_DEPTH + 2)
		n = OTA_CHAIN_MAX_DEPTH + 2;
	for (size_t i = 0; i < n && !bad; i++)
		bad |= json_array_append_new(certs,
					     cert_json(&report->certs[i], i));
	bad |= json_object_set_new(root, "trusted", json_boolean(ok));
	bad |= json_object_set_new(
	    root, "reason", json_string(ota_chain_reason_name(report->reason)));
	bad |= json_object_set_new(root, "fail_depth",
				   report->fail_depth >= 0
				       ? json_integer(report->fail_depth)
				       : json_null());
	bad |= json_object_set_new(
	    root, "message", ok ? json_null() : json_string(report->message));
	bad |= json_object_set_new(root, "certificates", certs);
	certs = NULL;
	if (bad) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int ota_chain_report_to_json(char **out, size_t *len,
			     const struct ota_chain_report *report)
{
	return ota_json_text(out, len, ota_chain_report_json(report));
}

/* Lists: the stacks above behind an opaque type ------------------------- */

static int cert_list_new(struct ota_cert_list **list)
{
	if (!*list && !(*list = calloc(1, sizeof(**list))))
		return ota_error(OTA_EINTERNAL, "out of memory");
	return 0;
}

int ota_cert_list_read(struct ota_cert_list **list, const char *path)
{
	int rc = cert_list_new(list);

	return rc ? rc : ota_chain_read_certs(&(*list)->certs, path);
}

int ota_cert_list_read_trust(struct ota_cert_list **list, const char *path)
{
	int rc = cert_list_new(list);

	return rc ? rc : ota_chain_read_trust(&(*list)->certs, path);
}

size_t ota_cert_list_count(const struct ota_cert_list *list)
{
	int n = list ? sk_X509_num(list->certs) : 0;

	return n > 0 ? (size_t)n : 0;
}

STACK_OF(X509) * ota_cert_list_stack(const struct ota_cert_list *list)
{
	return list ? list->certs : NULL;
}

void ota_cert_list_free(struct ota_cert_list *list)
{
	if (!list)
		return;
	sk_X509_pop_free(list->certs, X509_free);
	free(list);
}

int ota_crl_list_read(struct ota_crl_list **list, const char *path)
{
	if (!*list && !(*list = calloc(1, sizeof(**list))))
		return ota_error(OTA_EINTERNAL, "out of memory");
	return ota_chain_read_crls(&(*list)->crls, path);
}

STACK_OF(X509_CRL) * ota_crl_list_stack(const struct ota_crl_list *list)
{
	return list ? list->crls : NULL;
}

void ota_crl_list_free(struct ota_crl_list *list)
{
	if (!list)
		return;
	sk_X509_CRL_pop_free(list->crls, X509_CRL_free);
	free(list);
}
