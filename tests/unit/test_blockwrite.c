/* SPDX-License-Identifier: MIT */
/*
 * The writer threads on their own (userspace/blockwrite.c): what goes in
 * comes out in order, the carried-over bytes included, however far the
 * writers fall behind; once they do, the buffers the caller gets next
 * were prepared ahead by a writer (warm), never more than BW_BUFS (16) in
 * all.  The trace writer's tests (test_trace.c) go through it too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "userspace/blockwrite.h"

#define BUF (64 * 1024)
#define NBUFS 96
#define SUBMIT (BUF - 4096)	/* whole blocks, as a direct write needs */
#define KEEP 100

/* NBUFS buffers of a stream into a new file opened with flags, each
 * handing over SUBMIT bytes and the KEEP after them to the next buffer,
 * pause_us apart (the caller's own work); then the tail.  Checks the
 * file's bytes; returns the counts. */
static void stream_through(int flags, unsigned pause_us, unsigned *bufs, unsigned *warm)
{
	const char *dir = getenv("TMPDIR");
	size_t total = (size_t)NBUFS * SUBMIT + KEEP, at = 0;
	unsigned char *want = malloc(total), *buf;
	struct bytes got;
	struct ss_bw *bw;
	char path[4096];
	int fd;

	ASSERT_TRUE(want);
	for (size_t i = 0; i < total; i++)
		want[i] = (unsigned char)(i * 7 + (i >> 12));
	snprintf(path, sizeof(path), "%s/stallscope-bw-XXXXXX", dir ? dir : "/tmp");
	fd = mkostemp(path, flags);
	if (fd < 0)
		FAILF("mkostemp %s: %s", path, strerror(errno));
	ASSERT_EQ(ss_bw_new(fd, BUF, &bw, &buf), 0);
	for (unsigned b = 0; b < NBUFS; b++) {
		int err = 0;

		/* Its first KEEP bytes were carried over (the first's are new). */
		memcpy(buf + (b ? KEEP : 0), want + at + (b ? KEEP : 0), SUBMIT + KEEP - (b ? KEEP : 0));
		if (pause_us)
			usleep(pause_us);
		buf = ss_bw_submit(bw, buf, SUBMIT, KEEP, &err);
		ASSERT_EQ(err, 0);
		ASSERT_TRUE(buf);
		at += SUBMIT;
	}
	ASSERT_EQ(ss_bw_finish(bw, buf, KEEP), 0);
	ss_bw_counts(bw, bufs, warm);
	ss_bw_free(bw);
	free(buf);
	close(fd);
	got = test_slurp(path);
	unlink(path);
	ASSERT_EQ(got.len, total);
	for (size_t i = 0; i < total; i++)
		if (got.p[i] != want[i])
			FAILF("byte %zu is %u, want %u", i, got.p[i], want[i]);
	free(got.p);
	free(want);
}

/* Through the page cache or around it, as the file system allows. */
TEST(blockwrite_keeps_the_bytes_in_order)
{
	unsigned bufs, warm;

	stream_through(0, 0, &bufs, &warm);
	ASSERT_GE(bufs, 1);
	ASSERT_LE(bufs, 16);
}

/* Every write waiting for the device (O_DSYNC), the caller faster (a
 * buffer every 0.2 ms): the writers fall behind, the caller needs more
 * buffers, and a writer prepares them while the other's write is in the
 * device. */
TEST_T(blockwrite_prepares_warm_buffers_when_the_writers_fall_behind, 60)
{
	unsigned bufs, warm;

	stream_through(O_DSYNC, 200, &bufs, &warm);
	ASSERT_GT(bufs, 2);
	ASSERT_LE(bufs, 16);
	ASSERT_GE(warm, 1);
	ASSERT_LT(warm, bufs);
}
