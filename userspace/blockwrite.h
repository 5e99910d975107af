/* SPDX-License-Identifier: MIT */
/*
 * A file written in large buffers by writer threads, so that whoever fills
 * them (the recorder, draining the BPF ring buffer) never waits for the
 * disk while there is a free buffer: it hands a full one over and goes on
 * filling the next, and up to two writes are in flight.  Around the page
 * cache (O_DIRECT) where the filesystem allows: then every write but the
 * last is whole 4 KiB blocks from an aligned buffer at an aligned offset.
 */
#ifndef STALLSCOPE_BLOCKWRITE_H
#define STALLSCOPE_BLOCKWRITE_H

#include <stdbool.h>
#include <stddef.h>

#define SS_BW_ALIGN 4096	/* O_DIRECT: buffer, size and offset */

struct ss_bw;

/* For fd (written from its current offset, which must be 0 or aligned);
 * *buf is the first buffer to fill, buf_bytes long (a multiple of
 * SS_BW_ALIGN).  0 or -ENOMEM. */
int ss_bw_new(int fd, size_t buf_bytes, struct ss_bw **out, unsigned char **buf);
/* Whether writes go around the page cache: then submit whole blocks. */
bool ss_bw_direct(const struct ss_bw *bw);
/* Hands buf[0, n) over to be written next; returns the buffer to fill
 * now, holding the keep bytes that followed them (buf[n, n + keep)) at
 * its start.  Waits only when every buffer is still being written.  NULL
 * after a write error, in *err: buf is still the caller's.  The caller
 * owns one buffer at a time, the last one it got, and frees it (free());
 * ss_bw_free frees the others. */
unsigned char *ss_bw_submit(struct ss_bw *bw, unsigned char *buf, size_t n, size_t keep,
			    int *err);
/* The buffers it has had (the caller's included), and how many of them a
 * writer prepared ahead, warm, for the caller to take. */
void ss_bw_counts(struct ss_bw *bw, unsigned *bufs, unsigned *warm);
/* Waits until everything submitted is written; the first write error or 0. */
int ss_bw_drain(struct ss_bw *bw);
/* Drains, then writes p[0, n) through the page cache after the rest:
 * the file's end.  The first error or 0. */
int ss_bw_finish(struct ss_bw *bw, const void *p, size_t n);
/* Waits for the writes under way, stops the writers, frees every buffer. */
void ss_bw_free(struct ss_bw *bw);

#endif
