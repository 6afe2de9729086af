/* A one-job-at-a-time digest worker: the caller double-buffers. */
#include "hasher.h"
#include "otatool/error.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct ota_hasher {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	EVP_MD_CTX *ctx;
	const uint8_t *job; /* the buffer being hashed, NULL when idle */
	size_t job_len;
	bool stop, failed;
};

static void *worker(void *arg)
{
	struct ota_hasher *h = arg;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!h->job && !h->stop)
			pthread_cond_wait(&h->cv, &h->mu);
		if (!h->job)
			break; /* stop, and nothing left to hash */
		pthread_mutex_unlock(&h->mu);
		bool ok = EVP_DigestUpdate(h->ctx, h->job, h->job_len) == 1;
		pthread_mutex_lock(&h->mu);
		h->failed |= !ok;
		h->job = NULL;
		pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

int ota_hasher_start(struct ota_hasher **out, const EVP_MD *md)
{
	struct ota_hasher *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return ota_error(OTA_EINTERNAL, "out of memory");
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, md, NULL) != 1) {
		EVP_MD_CTX_free(h->ctx);
		free(h);
		return ota_error(OTA_EINTERNAL, "cannot start a digest");
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	if (pthread_create(&h->thread, NULL, worker, h) != 0) {
		pthread_mutex_destroy(&h->mu);
		pthread_cond_destroy(&h->cv);
		EVP_MD_CTX_free(h->ctx);
		free(h);
		return ota_error(OTA_EINTERNAL, "cannot start a thread");
	}
	*out = h;
	return 0;
}

/* Waits until the worker holds no job. Called with mu held. */
static void wait_idle(struct ota_hasher *h)
{
	while (h->job)
		pthread_cond_wait(&h->cv, &h->mu);
}

int ota_hasher_feed(struct ota_hasher *h, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&h->mu);
	wait_idle(h);
	h->job = buf;
	h->job_len = len;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return 0;
}

static bool stop_worker(struct ota_hasher *h)
{
	bool failed;

	pthread_mutex_lock(&h->mu);
	wait_idle(h);
	h->stop = true;
	pthread_cond_broadcast(&h->cv);
	failed = h->failed;
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	return failed;
}

int ota_hasher_finish(struct ota_hasher *h, uint8_t *out, unsigned int *len)
{
	bool failed = stop_worker(h);
	int ok = !failed && EVP_DigestFinal_ex(h->ctx, out, len) == 1;

	EVP_MD_CTX_free(h->ctx);
	free(h);
	return ok ? 0 : ota_error(OTA_EINTERNAL, "digest failed");
}

void ota_hasher_abort(struct ota_hasher *h)
{
	if (!h)
		return;
	stop_worker(h);
	EVP_MD_CTX_free(h->ctx);
	free(h);
}
