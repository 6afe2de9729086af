/*
 * Test-only ownership registry: everything a test allocates is registered
 * with own() and released by release_owned() in the test's .fini, so that
 * a failed assertion (which ends the test at once) leaks nothing under
 * LeakSanitizer.
 */
#ifndef OTATOOL_TEST_OWNED_H
#define OTATOOL_TEST_OWNED_H

/* Registers p with its release function; returns p. */
void *own(void *p, void (*release)(void *));
/* Releases everything registered. */
void release_owned(void);

/* Release functions for what the tests allocate. */
void release_mem(void *p);
void release_ossl(void *p);
void release_pkey(void *p);
void release_x509(void *p);
void release_key(void *p);
void release_public_key(void *p);
void release_env(void *p);
void release_manifest(void *p);

#endif
