/* Unit tests for src/lib/signer.c: opening signers and checking chains. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Only some of the fixtures' helpers are needed here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "chain_fixtures.h"
#pragma GCC diagnostic pop
#include "otatool/error.h"
#include "otatool/key.h"
#include "otatool/signer.h"
#include "otatool/trust.h"

static char dir[256];
static char paths[8][320];
static size_t n_paths;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/otatool-signer-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	n_paths = 0;
}

static void teardown(void)
{
	for (size_t i = 0; i < n_paths; i++)
		unlink(paths[i]);
	rmdir(dir);
	fx_release();
}

TestSuite(signer, .init = setup, .fini = teardown, .timeout = 120);

static const char *new_path(const char *name)
{
	cr_assert_lt(n_paths, 8);
	snprintf(paths[n_paths], sizeof(paths[n_paths]), "%s/%s", dir, name);
	return paths[n_paths++];
}

static const char *write_key(EVP_PKEY *k, const char *name)
{
	const char *path = new_path(name);
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL));
	cr_assert_eq(fclose(f), 0);
	return path;
}

static const char *write_cert(X509 *x, const char *name)
{
	const char *path = new_path(name);
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert(PEM_write_X509(f, x));
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* The PKI on disk: signer key, its certificate, intermediate, root. */
struct files {
	const char *key, *cert, *inter, *root;
};

static struct files pki_files(struct fx_pki *p)
{
	struct files f;

	fx_pki(p);
	f.key = write_key(p->signer_key, "signer.pem");
	f.cert = write_cert(p->signer, "signer.crt");
	f.inter = write_cert(p->inter, "inter.crt");
	f.root = write_cert(p->root, "root.crt");
	return f;
}

Test(signer, opens_keys_with_certificate_and_chain)
{
	struct fx_pki p;
	struct files f = pki_files(&p);
	struct ota_signers *s = NULL;
	struct ota_signers_opts o = {
		.keys = &f.key,
		.n_keys = 1,
		.certs = &f.cert,
		.n_certs = 1,
		.chains = &f.inter,
		.n_chains = 1,
	};
	const uint8_t *const *der;
	const size_t *lens;

	cr_assert_eq(ota_signers_open(&s, &o), 0, "%s", ota_error_message());
	cr_assert_eq(ota_signers_count(s), 1);
	cr_assert_str_eq(ota_key_ref(ota_signers_key(s, 0)), f.key);
	cr_assert_eq(ota_key_certs(ota_signers_key(s, 0), &der, &lens), 2,
		     "the signer's certificate, then the intermediate");
	cr_assert_null(ota_signers_key(s, 1));
	ota_signers_free(s);
	ota_signers_free(NULL);
}

Test(signer, certificates_and_chains_pair_with_keys)
{
	struct fx_pki p;
	struct files f = pki_files(&p);
	const char *two[] = { f.cert, f.cert };
	struct ota_signers *s = NULL;
	struct ota_signers_opts o = {
		.keys = &f.key, .n_keys = 1, .certs = two, .n_certs = 2
	};

	cr_assert_eq(ota_signers_open(&s, &o), OTA_EUSAGE);
	cr_assert_str_eq(ota_error_message(), "more --cert than --key");
	cr_assert_null(s);
	o.n_certs = 0;
	o.chains = &f.inter;
	o.n_chains = 1;
	cr_assert_eq(ota_signers_open(&s, &o), OTA_EUSAGE);
	cr_assert(strstr(ota_error_message(), "--chain goes with a --cert"));
	cr_assert_null(s);
}

Test(signer, refuses_a_certificate_of_another_key)
{
	struct fx_pki p;
	struct files f = pki_files(&p);
	const char *other = write_key(fx_key("P-256"), "other.pem");
	struct ota_signers *s = NULL;
	struct ota_signers_opts o = {
		.keys = &other, .n_keys = 1, .certs = &f.cert, .n_certs = 1
	};

	cr_assert_neq(ota_signers_open(&s, &o), 0);
	cr_assert_null(s);
	cr_assert(strstr(ota_error_message(), "signer.crt"), "%s",
		  ota_error_message());
}

Test(signer, chains_are_checked_against_anchors)
{
	struct fx_pki p, q;
	struct files f = pki_files(&p);
	struct ota_signers *s = NULL, *bare = NULL;
	struct ota_signers_opts o = {
		.keys = &f.key,
		.n_keys = 1,
		.certs = &f.cert,
		.n_certs = 1,
		.chains = &f.inter,
		.n_chains = 1,
	};
	struct ota_trust none, ours, theirs;
	const char *other_root;

	fx_pki_cas(&q);
	other_root = write_cert(q.root, "other-root.crt");
	ota_trust_init(&none);
	ota_trust_init(&ours);
	ota_trust_init(&theirs);
	cr_assert_eq(ota_trust_add_anchors(&ours, f.root), 0);
	cr_assert_eq(ota_trust_add_anchors(&theirs, other_root), 0);
	cr_assert_eq(ota_signers_open(&s, &o), 0, "%s", ota_error_message());
	cr_assert_eq(ota_signers_check_chains(s, &none, T_CHECK), 0);
	cr_assert_eq(ota_signers_check_chains(s, &ours, T_CHECK), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_signers_check_chains(s, &theirs, T_CHECK),
		     OTA_EUNTRUSTED);
	cr_assert_eq(ota_signers_check_chains(s, &ours, T_2035), OTA_EUNTRUSTED,
		     "the signer expired in 2027");
	/* Anchors given, but no signer has a certificate to check. */
	o.n_certs = o.n_chains = 0;
	cr_assert_eq(ota_signers_open(&bare, &o), 0);
	cr_assert_eq(ota_signers_check_chains(bare, &ours, T_CHECK),
		     OTA_EUSAGE);
	cr_assert(strstr(ota_error_message(), "no --key has a certificate"));
	ota_signers_free(bare);
	ota_signers_free(s);
	ota_trust_clear(&none);
	ota_trust_clear(&ours);
	ota_trust_clear(&theirs);
}

Test(signer, public_halves_for_two_step_signing)
{
	struct fx_pki p;
	struct files f = pki_files(&p);
	struct ota_signers *s = NULL;
	enum ota_sig_alg alg = OTA_SIG_ECDSA_P256_SHA256;
	struct ota_signers_opts o = { .keys = &f.cert, .n_keys = 1 };

	/* A certificate is no private key ... */
	cr_assert_eq(ota_signers_open(&s, &o), OTA_EKEY);
	cr_assert_null(s);
	/* ... but its public half is enough to export what to sign. */
	o.public_only = true;
	o.forced_alg = &alg;
	cr_assert_eq(ota_signers_open(&s, &o), 0, "%s", ota_error_message());
	cr_assert_eq(ota_key_alg(ota_signers_key(s, 0)), alg);
	ota_signers_free(s);
}

Test(signer, wrapped_keys_stay_the_callers)
{
	struct fx_pki p;
	struct files f = pki_files(&p);
	struct ota_key_opts ko = { 0 };
	struct ota_key *key = NULL;
	struct ota_signers *s = NULL;
	struct ota_trust t;

	cr_assert_eq(ota_key_open(&key, f.key, &ko), 0);
	cr_assert_eq(ota_signers_wrap(&s, &key, 1), 0);
	cr_assert_eq(ota_signers_count(s), 1);
	ota_trust_init(&t);
	cr_assert_eq(ota_signers_trust(&t, s), 0);
	cr_assert_eq(t.n_keys, 1, "the signers trust themselves");
	ota_trust_clear(&t);
	ota_signers_free(s);
	/* Still the caller's: usable, then freed once. */
	cr_assert_not_null(ota_key_id(key));
	ota_key_free(key);
}

Test(signer, at_most_eight)
{
	const char *keys[OTA_SIGNERS_MAX + 1] = { 0 };
	struct ota_signers *s = NULL;
	struct ota_signers_opts o = { .keys = keys,
				      .n_keys = OTA_SIGNERS_MAX + 1 };

	cr_assert_eq(ota_signers_open(&s, &o), OTA_EUSAGE);
	cr_assert_null(s);
}
