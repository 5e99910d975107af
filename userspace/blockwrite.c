/* SPDX-License-Identifier: MIT */
/*
 * Buffers written by writer threads (blockwrite.h).  A direct write
 * blocks its caller for as long as the device takes (about 0.7 ms a MiB
 * on this project's machines), and a recorder blocked there drains
 * nothing while the BPF ring buffer fills: writing on the recorder's own
 * thread, a 3 s recording of yield_many lost 28-36 % of its events; with
 * nothing written, none.  So the filling and the writing overlap: up to BW_BUFS
 * buffers (allocated as the writers fall behind), two writers (one write
 * can be issued while the other is in the device), each buffer at its own
 * offset.
 *
 * A buffer allocated is memory touched for the first time, and here each
 * first touch of a 4 KiB page is a fault in the hypervisor's page tables
 * (11 us: 2.8 ms a MiB): a recorder filling fresh buffers while the
 * writers fall behind (yield_many: 3 to all 16 in a recording) spent up
 * to 45 ms there, at a busy target's start, while the ring buffer
 * filled.  So once the caller had to take a fresh one, a writer prepares
 * the next (populated, then each page touched) while the other's write is
 * in the device (or with nothing to write), and the caller takes it warm.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blockwrite.h"

#define BW_BUFS 16
#define BW_THREADS 2

struct bw_job {
	unsigned char *p;
	size_t n;
	off_t off;
};

struct ss_bw {
	int fd;
	size_t buf_bytes;
	bool direct;		/* read and cleared atomically: writers too */
	off_t off;		/* where the next bytes submitted go */
	pthread_mutex_t mu;	/* guards all below */
	pthread_cond_t work;	/* a job queued, or stop */
	pthread_cond_t done;	/* a job written */
	unsigned char *free[BW_BUFS];
	unsigned nfree, nalloc;	/* nalloc: the caller's buffer included */
	bool want_spare;	/* the caller took a fresh buffer: prepare one */
	unsigned nwarm;		/* buffers prepared so (ss_bw_counts) */
	struct bw_job q[BW_BUFS];
	unsigned qhead, qlen, busy;
	int err;		/* the first write error */
	bool stop;
	pthread_t th[BW_THREADS];
	unsigned nth;
	bool started;
};

static int pwrite_all(int fd, const unsigned char *p, size_t n, off_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		off += w;
		n -= (size_t)w;
	}
	return 0;
}

static void go_buffered(struct ss_bw *bw)
{
	__atomic_store_n(&bw->direct, false, __ATOMIC_RELAXED);
	(void)fcntl(bw->fd, F_SETFL, fcntl(bw->fd, F_GETFL) & ~O_DIRECT);
}

static int write_job(struct ss_bw *bw, const struct bw_job *j)
{
	int err = pwrite_all(bw->fd, j->p, j->n, j->off);

	if (err == -EINVAL && __atomic_load_n(&bw->direct, __ATOMIC_RELAXED)) {
		/* Refused after all (some filesystems accept the flag, then
		 * not the write): through the page cache from now on. */
		go_buffered(bw);
		err = pwrite_all(bw->fd, j->p, j->n, j->off);
	}
	return err;
}

/* A job done: its buffer free again, its error kept. */
static void job_done(struct ss_bw *bw, const struct bw_job *j, int err)
{
	if (err && !bw->err)
		bw->err = err;
	bw->free[bw->nfree++] = j->p;
	pthread_cond_broadcast(&bw->done);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23	/* Linux 5.14 */
#endif

/* A buffer, its pages populated (about half the first touch's cost here;
 * where the kernel cannot, the touch pays it all). */
static unsigned char *alloc_buf(size_t bytes)
{
	void *p;

	if (posix_memalign(&p, SS_BW_ALIGN, bytes))
		return NULL;
	(void)madvise(p, bytes, MADV_POPULATE_WRITE);
	return p;
}

/* A new buffer, every page touched if warm; NULL if none could be had.
 * Called with mu held, dropped meanwhile: counted in nalloc before it is
 * had, for the caller and a writer preparing a spare may allocate at
 * once, and together must not pass BW_BUFS (uncounted again if none). */
static unsigned char *alloc_counted(struct ss_bw *bw, bool warm)
{
	unsigned char *p;

	bw->nalloc++;
	pthread_mutex_unlock(&bw->mu);
	if ((p = alloc_buf(bw->buf_bytes)) && warm)
		for (size_t k = 0; k < bw->buf_bytes; k += 4096)
			((volatile unsigned char *)p)[k] = 0;
	pthread_mutex_lock(&bw->mu);
	if (!p)
		bw->nalloc--;
	return p;
}

/* A warm buffer for the caller, on the free list if it could be had
 * (mu held, dropped meanwhile). */
static void prepare_spare(struct ss_bw *bw)
{
	unsigned char *p;

	bw->want_spare = false;
	if (!(p = alloc_counted(bw, true)))
		return;
	bw->free[bw->nfree++] = p;
	bw->nwarm++;
	pthread_cond_broadcast(&bw->done);
}

static void *writer(void *arg)
{
	struct ss_bw *bw = arg;

	pthread_mutex_lock(&bw->mu);
	for (;;) {
		struct bw_job j;
		int err;

		while (!bw->qlen && !bw->stop && !bw->want_spare)
			pthread_cond_wait(&bw->work, &bw->mu);
		if (!bw->qlen && bw->stop)
			break;		/* stopped, and nothing left */
		if (bw->want_spare && bw->nalloc >= BW_BUFS)
			bw->want_spare = false;
		/* A spare before the next job if a write is under way
		 * already: the device stays busy. */
		if (bw->want_spare && !bw->stop && (!bw->qlen || bw->busy)) {
			prepare_spare(bw);
			continue;
		}
		if (!bw->qlen)
			continue;
		j = bw->q[bw->qhead];
		bw->qhead = (bw->qhead + 1) % BW_BUFS;
		bw->qlen--;
		bw->busy++;
		pthread_mutex_unlock(&bw->mu);
		err = write_job(bw, &j);
		pthread_mutex_lock(&bw->mu);
		bw->busy--;
		job_done(bw, &j, err);
	}
	pthread_mutex_unlock(&bw->mu);
	return NULL;
}

int ss_bw_new(int fd, size_t buf_bytes, struct ss_bw **out, unsigned char **buf)
{
	struct ss_bw *bw = calloc(1, sizeof(*bw));

	*out = NULL;
	if (!bw || !(*buf = alloc_buf(buf_bytes))) {
		free(bw);
		return -ENOMEM;
	}
	bw->fd = fd;
	bw->buf_bytes = buf_bytes;
	bw->nalloc = 1;
	bw->off = lseek(fd, 0, SEEK_CUR);
	if (bw->off < 0)
		bw->off = 0;
	bw->direct = !fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_DIRECT);
	pthread_mutex_init(&bw->mu, NULL);
	pthread_cond_init(&bw->work, NULL);
	pthread_cond_init(&bw->done, NULL);
	*out = bw;
	return 0;
}

bool ss_bw_direct(const struct ss_bw *bw)
{
	return __atomic_load_n(&bw->direct, __ATOMIC_RELAXED);
}

/* The writers, at the first buffer handed over (a short trace never needs
 * them), with every signal blocked: the program's handlers run on its own
 * threads.  None started: the caller writes itself. */
static void start(struct ss_bw *bw)
{
	sigset_t all, old;

	bw->started = true;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < BW_THREADS; i++)
		if (!pthread_create(&bw->th[bw->nth], NULL, writer, bw))
			bw->nth++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

unsigned char *ss_bw_submit(struct ss_bw *bw, unsigned char *buf, size_t n, size_t keep,
			    int *err)
{
	struct bw_job j = { .p = buf, .n = n, .off = bw->off };
	unsigned char *next = NULL;

	pthread_mutex_lock(&bw->mu);
	if (!bw->started)
		start(bw);
	if (!bw->nth) {		/* no writer: write it here, keep the buffer */
		pthread_mutex_unlock(&bw->mu);
		int e = write_job(bw, &j);
		pthread_mutex_lock(&bw->mu);
		if (e && !bw->err)
			bw->err = e;
		if (!bw->err) {
			memmove(buf, buf + n, keep);
			next = buf;
			bw->off += (off_t)n;
		}
		goto out;
	}
	while (!bw->err && !bw->nfree && bw->nalloc == BW_BUFS)
		pthread_cond_wait(&bw->done, &bw->mu);
	if (bw->err)
		goto out;
	if (bw->nfree) {
		next = bw->free[--bw->nfree];
	} else {
		if (!(next = alloc_counted(bw, false))) {
			bw->err = -ENOMEM;
			goto out;
		}
		/* The writers falling behind: the next one ready warm. */
		bw->want_spare = true;
	}
	memcpy(next, buf + n, keep);
	bw->q[(bw->qhead + bw->qlen) % BW_BUFS] = j;
	bw->qlen++;
	bw->off += (off_t)n;
	if (bw->want_spare)	/* one writer for the job, one for the spare */
		pthread_cond_broadcast(&bw->work);
	else
		pthread_cond_signal(&bw->work);
out:
	*err = bw->err;
	pthread_mutex_unlock(&bw->mu);
	return next;
}

void ss_bw_counts(struct ss_bw *bw, unsigned *bufs, unsigned *warm)
{
	pthread_mutex_lock(&bw->mu);
	*bufs = bw->nalloc;
	*warm = bw->nwarm;
	pthread_mutex_unlock(&bw->mu);
}

int ss_bw_drain(struct ss_bw *bw)
{
	int err;

	pthread_mutex_lock(&bw->mu);
	while (bw->qlen || bw->busy)
		pthread_cond_wait(&bw->done, &bw->mu);
	err = bw->err;
	pthread_mutex_unlock(&bw->mu);
	return err;
}

/* Stops the writers once the queue is empty; joined. */
static void stop(struct ss_bw *bw)
{
	pthread_mutex_lock(&bw->mu);
	bw->stop = true;
	pthread_cond_broadcast(&bw->work);
	pthread_mutex_unlock(&bw->mu);
	for (unsigned i = 0; i < bw->nth; i++)
		pthread_join(bw->th[i], NULL);
	bw->nth = 0;
}

int ss_bw_finish(struct ss_bw *bw, const void *p, size_t n)
{
	int err = ss_bw_drain(bw);

	stop(bw);
	if (err)
		return err;
	if (!n)
		return 0;
	/* Not a whole block: through the page cache. */
	if (ss_bw_direct(bw))
		go_buffered(bw);
	err = pwrite_all(bw->fd, p, n, bw->off);
	if (!err)
		bw->off += (off_t)n;
	return err;
}

void ss_bw_free(struct ss_bw *bw)
{
	if (!bw)
		return;
	stop(bw);
	for (unsigned i = 0; i < bw->nfree; i++)
		free(bw->free[i]);
	pthread_cond_destroy(&bw->done);
	pthread_cond_destroy(&bw->work);
	pthread_mutex_destroy(&bw->mu);
	free(bw);
}
