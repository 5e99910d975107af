/* SPDX-License-Identifier: MIT */
/*
 * The trace file on its own (userspace/trace_read.c, trace_write.c): what the writer writes
 * reads back exactly, from a file, a pipe or memory; every way a file can
 * be cut short or corrupted gives one message naming the offset; newer
 * files are refused or read as the compatibility rules say.  The fuzz
 * target tests/fuzz/fuzz_trace_read.c covers arbitrary bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "userspace/outfile.h"
#include "userspace/ringdec.h"
#include "userspace/ringpack.h"
#include "userspace/trace.h"

/* ---- helpers ---- */

static char *temp_path(void)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (asprintf(&path, "%s/stallscope-test-XXXXXX", dir ? dir : "/tmp") < 0)
		FAILF("out of memory");
	fd = mkstemp(path);
	if (fd < 0)
		FAILF("mkstemp %s: %s", path, strerror(errno));
	close(fd);
	return path;
}

static void spill(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		FAILF("writing %s: %s", path, strerror(errno));
	close(fd);
}

static char *test_argv[] = { "build/bin/http-stall", "--serve-only", "",
			     "two words", NULL };

static struct ss_mapping test_maps[2];

static void fill_meta(struct ss_trace_meta *m)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->host, "buildbox");
	strcpy(m->kernel, "6.1.0-18-amd64");
	strcpy(m->clock, "CLOCK_MONOTONIC");
	strcpy(m->comm, "http-stall");
	strcpy(m->recorder, "stallscope 0.1");
	m->start_mono_ns = 123456789012ULL;
	m->start_realtime_ns = 1714557600123456789ULL;
	m->ring_bytes = 16 << 20;
	m->pid = 4242;
	m->workers = 4;
	m->flags = SS_FILE_KERNEL_ONLY;
	m->argv = test_argv;
	m->argc = 4;

	memset(test_maps, 0, sizeof(test_maps));
	test_maps[0].start = 0x555555554000ULL;
	test_maps[0].end = 0x555555600000ULL;
	test_maps[0].offset = 0x1000;
	test_maps[0].build_id_len = 20;
	for (int i = 0; i < 20; i++)
		test_maps[0].build_id[i] = (__u8)(0xa0 + i);
	strcpy(test_maps[0].path, "/work/build/bin/http-stall");
	test_maps[1].start = 0x7ffff7c00000ULL;
	test_maps[1].end = 0x7ffff7d80000ULL;
	test_maps[1].offset = 0;
	test_maps[1].build_id_len = 0;
	strcpy(test_maps[1].path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	m->mappings = test_maps;
	m->nmappings = 2;
}

/* Record i: every field derived from i; types cycle through some known
 * ones and one this build doesn't know (150). */
static struct ss_record make_record(unsigned i)
{
	static const __u32 types[] = { SS_WSRT_NOTIFY, SS_WSRT_POLL_START,
				       SS_SCHED_SWITCH, 150, SS_LOST,
				       SS_COMM };
	struct ss_record r = {
		.ts = 1000000000ULL + i * 37ULL,
		.type = types[i % (sizeof(types) / sizeof(types[0]))],
		.tid = 1000 + i % 7,
		.cpu = i % 3,
		.flags = i % 5 == 0 ? 0x80000000U : 0,
	};

	for (unsigned k = 0; k < SS_RECORD_ARGS; k++)
		r.args[k] = ((__u64)i << 32) | (k * 0x1111U) | (i & 0xff);
	return r;
}

/* Writes a trace of n records in uneven batches, with the trailer. */
static void write_trace(const char *path, const struct ss_trace_meta *m,
			unsigned n)
{
	struct ss_trace_writer *w;
	struct ss_record batch[1000];
	unsigned i = 0, step = 1;

	ASSERT_EQ(ss_trace_create(path, m, &w), 0);
	while (i < n) {
		unsigned k = step < n - i ? step : n - i;

		for (unsigned j = 0; j < k; j++)
			batch[j] = make_record(i + j);
		ASSERT_EQ(ss_trace_write(w, batch, k), 0);
		i += k;
		step = step * 3 % 997 + 1;	/* 1, 4, 13, 40, ... */
		ASSERT_EQ(ss_trace_written(w), i);
	}
	ASSERT_EQ(ss_trace_finish(w, 5, 999999999999ULL, SS_STOP_SIGNAL, -1), 0);
}

/* A small valid trace (3 records, meta with argv and mappings), in memory. */
static struct bytes small_trace(void)
{
	struct ss_trace_meta m;
	char *path = temp_path();
	struct bytes b;

	fill_meta(&m);
	write_trace(path, &m, 3);
	b = test_slurp(path);
	unlink(path);
	free(path);
	return b;
}

static struct ss_file_header *hdr(struct bytes b)
{
	return (struct ss_file_header *)b.p;
}

/* Reads a reader to its end: the number of records, the final code in
 * *rc (0 = clean end, < 0 = error). */
static unsigned long drain(struct ss_trace_reader *r, int *rc)
{
	struct ss_record rec;
	unsigned long n = 0;
	__u64 last = ss_trace_offset(r);
	int k;

	while ((k = ss_trace_next(r, &rec)) == 1) {
		ASSERT_GT(ss_trace_offset(r), last);
		last = ss_trace_offset(r);
		n++;
	}
	ASSERT_GE(ss_trace_offset(r), last);
	*rc = k;
	return n;
}

/*
 * Reads b[0..len) from an exact-size copy (ASan sees any overread),
 * expects the error want (from open or a later next) and a message
 * containing msg.  Returns the records read before it.
 */
static unsigned long expect_error(const unsigned char *p, size_t len,
				  int want, const char *msg)
{
	unsigned char *copy = malloc(len ? len : 1);
	struct ss_trace_reader *r;
	unsigned long n = 0;
	int rc;

	if (!copy)
		FAILF("out of memory");
	memcpy(copy, p, len);
	rc = ss_trace_open_mem(copy, len, &r);
	ASSERT_TRUE(r != NULL);
	if (rc == 0)
		n = drain(r, &rc);
	if (rc != want)
		FAILF("%zu bytes: got %d (%s), want %d", len, rc,
		      ss_trace_error(r), want);
	ASSERT_HAS(ss_trace_error(r), msg);
	ASSERT_TRUE(ss_trace_trailer(r) == NULL);
	ASSERT_LE(ss_trace_offset(r), len);
	/* The error sticks. */
	struct ss_record rec;
	ASSERT_EQ(ss_trace_next(r, &rec), want);
	ss_trace_close(r);
	free(copy);
	return n;
}

/* Inserts one TLV right after the 32-byte file header. */
static void insert_tlv(struct bytes *b, __u16 tag, const void *value,
		       __u32 len)
{
	size_t padded = (len + 7) & ~7U, add = sizeof(struct ss_tlv) + padded;
	struct ss_tlv t = { .tag = tag, .len = len };
	unsigned char *p = calloc(1, b->len + add);

	if (!p)
		FAILF("out of memory");
	memcpy(p, b->p, 32);
	memcpy(p + 32, &t, sizeof(t));
	memcpy(p + 40, value, len);
	memcpy(p + 32 + add, b->p + 32, b->len - 32);
	free(b->p);
	b->p = p;
	b->len += add;
	hdr(*b)->header_len += (__u32)add;
}

static void assert_meta_equal(const struct ss_trace_meta *got,
			      const struct ss_trace_meta *want)
{
	ASSERT_STREQ(got->host, want->host);
	ASSERT_STREQ(got->kernel, want->kernel);
	ASSERT_STREQ(got->clock, want->clock);
	ASSERT_STREQ(got->comm, want->comm);
	ASSERT_STREQ(got->recorder, want->recorder);
	ASSERT_EQ(got->start_mono_ns, want->start_mono_ns);
	ASSERT_EQ(got->start_realtime_ns, want->start_realtime_ns);
	ASSERT_EQ(got->ring_bytes, want->ring_bytes);
	ASSERT_EQ(got->pid, want->pid);
	ASSERT_EQ(got->workers, want->workers);
	ASSERT_EQ(got->flags, want->flags);
	ASSERT_EQ(got->argc, want->argc);
	for (unsigned i = 0; i < want->argc; i++)
		ASSERT_STREQ(got->argv[i], want->argv[i]);
	ASSERT_TRUE(got->argc == 0 || got->argv[got->argc] == NULL);
	ASSERT_EQ(got->nmappings, want->nmappings);
	for (unsigned i = 0; i < want->nmappings; i++) {
		const struct ss_mapping *a = &got->mappings[i];
		const struct ss_mapping *b = &want->mappings[i];

		ASSERT_EQ(a->start, b->start);
		ASSERT_EQ(a->end, b->end);
		ASSERT_EQ(a->offset, b->offset);
		ASSERT_EQ(a->build_id_len, b->build_id_len);
		ASSERT_EQ(memcmp(a->build_id, b->build_id, b->build_id_len), 0);
		ASSERT_STREQ(a->path, b->path);
	}
}

/* Every record of a trace written by write_trace(m, n), then its end. */
static void assert_reads_back(struct ss_trace_reader *r,
			      const struct ss_trace_meta *m, unsigned n,
			      __u64 size)
{
	const struct ss_file_trailer *t;
	struct ss_record rec;

	assert_meta_equal(ss_trace_meta(r), m);
	ASSERT_EQ(ss_trace_header(r)->version, SS_FILE_VERSION);
	ASSERT_EQ(ss_trace_header(r)->min_reader, SS_FILE_VERSION);
	for (unsigned i = 0; i < n; i++) {
		struct ss_record want = make_record(i);

		ASSERT_TRUE(ss_trace_trailer(r) == NULL);
		int rc = ss_trace_next(r, &rec);
		if (rc != 1)
			FAILF("record %u: got %d (%s)", i, rc, ss_trace_error(r));
		if (memcmp(&rec, &want, sizeof(rec)))
			FAILF("record %u differs: ts %llu type %u", i,
			      (unsigned long long)rec.ts, rec.type);
	}
	if (ss_trace_next(r, &rec) != 0)
		FAILF("the end: %s", ss_trace_error(r));
	ASSERT_EQ(ss_trace_next(r, &rec), 0);
	t = ss_trace_trailer(r);
	ASSERT_TRUE(t != NULL);
	ASSERT_EQ(memcmp(t->magic, SS_TRAILER_MAGIC, 8), 0);
	ASSERT_EQ(t->records, n);
	ASSERT_EQ(t->lost, 5);
	ASSERT_EQ(t->end_mono_ns, 999999999999ULL);
	ASSERT_EQ(t->stop_reason, SS_STOP_SIGNAL);
	ASSERT_EQ(t->exit_status, -1);
	ASSERT_EQ(ss_trace_offset(r), size);
	ASSERT_STREQ(ss_trace_error(r), "");
}

/* ---- round trips ---- */

TEST(trace_round_trip_keeps_every_field_and_record)
{
	/* 3001 records: 192 KB, several writer and reader buffers, with
	 * records straddling the reader's buffer boundaries. */
	const unsigned n = 3001;
	struct ss_trace_meta m;
	struct ss_trace_reader *r;
	char *path = temp_path();
	struct stat st;

	fill_meta(&m);
	/* A host name that puts the first record 32 bytes past a multiple
	 * of 64, so that records straddle the reader's 64 KiB reads. */
	write_trace(path, &m, 0);
	struct bytes probe = test_slurp(path);
	size_t host_len = strlen(m.host) + (32 + 64 - hdr(probe)->header_len % 64) % 64;
	memset(m.host, 'h', host_len);
	m.host[host_len] = '\0';
	free(probe.p);
	write_trace(path, &m, n);
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_GT(st.st_size, 64 * 1024 * 2);
	ASSERT_EQ(ss_trace_open(path, &r), 0);
	ASSERT_EQ(ss_trace_offset(r), ss_trace_header(r)->header_len);
	ASSERT_EQ(ss_trace_header(r)->header_len % 64, 32);
	ASSERT_EQ((st.st_size - ss_trace_header(r)->header_len) % 64, 0);
	assert_reads_back(r, &m, n, (__u64)st.st_size);
	ss_trace_close(r);
	unlink(path);
	free(path);
}

TEST(trace_header_larger_than_the_read_buffer_round_trips)
{
	/* 2000 mappings: a header of about 200 KB, read in several reads. */
	const unsigned nmaps = 2000;
	struct ss_mapping *maps = calloc(nmaps, sizeof(*maps));
	struct ss_trace_meta m;
	struct ss_trace_reader *r;
	char *path = temp_path();
	struct stat st;

	if (!maps)
		FAILF("out of memory");
	fill_meta(&m);
	for (unsigned i = 0; i < nmaps; i++) {
		maps[i].start = 0x10000ULL * i;
		maps[i].end = maps[i].start + 0x8000;
		maps[i].offset = i;
		maps[i].build_id_len = (__u8)(i % 21);
		memset(maps[i].build_id, (int)i, maps[i].build_id_len);
		snprintf(maps[i].path, sizeof(maps[i].path),
			 "/usr/lib/x86_64-linux-gnu/some-library-%u.so.%u", i, i % 7);
	}
	m.mappings = maps;
	m.nmappings = nmaps;
	write_trace(path, &m, 10);
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_EQ(ss_trace_open(path, &r), 0);
	ASSERT_GT(ss_trace_header(r)->header_len, 3 * 64 * 1024);
	assert_reads_back(r, &m, 10, (__u64)st.st_size);
	ss_trace_close(r);
	unlink(path);
	free(path);
	free(maps);
}

/* 40 MiB: every buffer but the first goes to the writer threads
 * (blockwrite.c), up to two writes at once at their own offsets; the file
 * is the records in order all the same, and its size what they sum to. */
TEST_T(trace_round_trip_through_the_writer_threads, 120)
{
	const unsigned n = 40 * 16384;
	struct ss_trace_meta m;
	struct ss_trace_reader *r;
	char *path = temp_path();
	struct stat st;

	fill_meta(&m);
	write_trace(path, &m, n);
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_EQ(ss_trace_open(path, &r), 0);
	ASSERT_EQ((__u64)st.st_size, ss_trace_header(r)->header_len + (n + 1) * 64ULL);
	assert_reads_back(r, &m, n, (__u64)st.st_size);
	ss_trace_close(r);
	unlink(path);
	free(path);
}

/* A write that fails in a writer thread (here the file size limit: EFBIG)
 * is the writer's error from then on: a later write or flush returns it,
 * finish too, and the partial file stays, readable up to where it
 * stopped. */
TEST_T(trace_write_error_in_a_writer_thread_sticks, 120)
{
	struct rlimit lim = { 8 << 20, 8 << 20 };
	struct ss_trace_meta m;
	struct ss_trace_writer *w;
	struct ss_trace_reader *r;
	char *path = temp_path(), partial[PATH_MAX + 16];
	struct ss_record batch[1024];
	int err = 0, rc;
	unsigned i = 0;

	unlink(path);		/* temp_path made it */
	signal(SIGXFSZ, SIG_IGN);
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
	fill_meta(&m);
	ASSERT_EQ(ss_trace_create(path, &m, &w), 0);
	snprintf(partial, sizeof(partial), "%s", ss_trace_partial_path(w));
	/* Up to 64 MiB, but it stops at the first error. */
	while (!err && i < 1024 * 1024) {
		for (unsigned j = 0; j < 1024; j++)
			batch[j] = make_record(i + j);
		err = ss_trace_write(w, batch, 1024);
		i += 1024;
	}
	if (!err)
		err = ss_trace_flush(w);
	ASSERT_EQ(err, -EFBIG);
	ASSERT_EQ(ss_trace_write(w, batch, 1), -EFBIG);
	ASSERT_EQ(ss_trace_flush(w), -EFBIG);
	ASSERT_EQ(ss_trace_finish(w, 0, 1, SS_STOP_EXITED, 0), -EFBIG);
	ASSERT_EQ(access(path, F_OK), -1);
	ASSERT_EQ(ss_trace_open(partial, &r), 0);
	ASSERT_GE(drain(r, &rc), 100000);
	ASSERT_TRUE(ss_trace_trailer(r) == NULL);
	ss_trace_close(r);
	unlink(partial);
	free(path);
}

TEST(trace_reads_the_same_from_memory)
{
	const unsigned n = 1500;
	struct ss_trace_meta m;
	struct ss_trace_reader *r;
	char *path = temp_path();
	struct bytes b;

	fill_meta(&m);
	write_trace(path, &m, n);
	b = test_slurp(path);
	ASSERT_EQ(ss_trace_open_mem(b.p, b.len, &r), 0);
	assert_reads_back(r, &m, n, b.len);
	ss_trace_close(r);
	unlink(path);
	free(path);
	free(b.p);
}

TEST(trace_reads_from_a_pipe)
{
	struct ss_trace_meta m;
	struct ss_trace_reader *r;
	struct bytes b = small_trace();
	char path[64];
	int fds[2];

	fill_meta(&m);
	ASSERT_EQ(pipe(fds), 0);
	ASSERT_EQ(write(fds[1], b.p, b.len), b.len);
	close(fds[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	ASSERT_EQ(ss_trace_open(path, &r), 0);
	assert_reads_back(r, &m, 3, b.len);
	ss_trace_close(r);
	close(fds[0]);

	/* A pipe cut inside the header: the size is not known in advance. */
	ASSERT_EQ(pipe(fds), 0);
	ASSERT_EQ(write(fds[1], b.p, 100), 100);
	close(fds[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	ASSERT_EQ(ss_trace_open(path, &r), -ENODATA);
	ASSERT_HAS(ss_trace_error(r), "truncated at offset 100: the header");
	ss_trace_close(r);
	close(fds[0]);
	free(b.p);
}

TEST(trace_empty_meta_and_no_records_round_trip)
{
	struct ss_trace_meta m = { 0 };
	struct ss_trace_writer *w;
	struct ss_trace_reader *r;
	struct ss_record rec;
	char *path = temp_path();

	ASSERT_EQ(ss_trace_create(path, &m, &w), 0);
	ASSERT_GE(ss_trace_fd(w), 0);
	ASSERT_EQ(ss_trace_flush(w), 0);
	ASSERT_EQ(ss_trace_finish(w, 0, 7, SS_STOP_EXITED, 0), 0);
	ASSERT_EQ(ss_trace_open(path, &r), 0);
	/* An empty clock is written as the one the records use. */
	ASSERT_STREQ(ss_trace_meta(r)->clock, "CLOCK_MONOTONIC");
	ASSERT_STREQ(ss_trace_meta(r)->host, "");
	ASSERT_EQ(ss_trace_meta(r)->argc, 0);
	ASSERT_EQ(ss_trace_meta(r)->nmappings, 0);
	ASSERT_EQ(ss_trace_next(r, &rec), 0);
	ASSERT_EQ(ss_trace_trailer(r)->records, 0);
	ASSERT_EQ(ss_trace_trailer(r)->end_mono_ns, 7);
	ASSERT_EQ(ss_trace_trailer(r)->exit_status, 0);
	ss_trace_close(r);
	unlink(path);
	free(path);
}

TEST(trace_create_makes_a_private_file_and_replaces_an_old_one)
{
	struct ss_trace_meta m = { 0 };
	struct ss_trace_writer *w;
	char *path = temp_path();
	struct stat st;

	char old[200];

	memset(old, 'x', sizeof(old));
	spill(path, old, sizeof(old));
	chmod(path, 0644);
	ASSERT_EQ(ss_trace_create(path, &m, &w), 0);
	ASSERT_EQ(fstat(ss_trace_fd(w), &st), 0);
	ASSERT_EQ(ss_trace_finish(w, 0, 0, SS_STOP_EXITED, 0), 0);
	struct bytes b = test_slurp(path);
	ASSERT_EQ(memcmp(b.p, SS_FILE_MAGIC, 8), 0);
	ASSERT_EQ(b.len, hdr(b)->header_len + 64);
	/* A new file (renamed over the old one) is 0600. */
	unlink(path);
	ASSERT_EQ(ss_trace_create(path, &m, &w), 0);
	ASSERT_EQ(fstat(ss_trace_fd(w), &st), 0);
	ASSERT_EQ(st.st_mode & 0777, 0600);
	ss_trace_abort(w);
	unlink(path);
	free(path);
	free(b.p);
}

TEST(trace_create_fails_cleanly)
{
	struct ss_trace_meta m = { 0 };
	struct ss_trace_writer *w = (void *)1;

	ASSERT_EQ(ss_trace_create("/nonexistent-dir/t.ss", &m, &w), -ENOENT);
	ASSERT_TRUE(w == NULL);
	m.argc = 1;	/* argv NULL */
	ASSERT_EQ(ss_trace_create("/nonexistent-dir/t.ss", &m, &w), -EINVAL);
	m.argc = 0;
	m.nmappings = 1;	/* mappings NULL */
	ASSERT_EQ(ss_trace_create("/nonexistent-dir/t.ss", &m, &w), -EINVAL);
}

TEST(trace_writer_truncates_unterminated_strings)
{
	struct ss_trace_meta m = { 0 };
	struct ss_trace_writer *w;
	struct ss_trace_reader *r;
	char *path = temp_path();

	memset(m.host, 'h', sizeof(m.host));	/* no NUL */
	memset(m.comm, 'c', sizeof(m.comm));
	ASSERT_EQ(ss_trace_create(path, &m, &w), 0);
	ASSERT_EQ(ss_trace_finish(w, 0, 0, SS_STOP_EXITED, 0), 0);
	ASSERT_EQ(ss_trace_open(path, &r), 0);
	ASSERT_EQ(strlen(ss_trace_meta(r)->host), sizeof(m.host) - 1);
	ASSERT_EQ(strlen(ss_trace_meta(r)->comm), 16);
	ss_trace_close(r);
	unlink(path);
	free(path);
}

TEST(trace_writer_refuses_records_the_reader_would_reject)
{
	struct ss_trace_meta m = { 0 };
	struct ss_trace_writer *w;
	struct ss_record recs[3] = { make_record(0), make_record(1),
				     make_record(2) };
	char *path = temp_path();

	ASSERT_EQ(ss_trace_create(path, &m, &w), 0);
	recs[1].type = SS_NONE;
	ASSERT_EQ(ss_trace_write(w, recs, 3), -EINVAL);
	ASSERT_EQ(ss_trace_written(w), 0);
	recs[1].type = SS_WSRT_SPAWN;
	memcpy(&recs[2].ts, SS_TRAILER_MAGIC, 8);
	ASSERT_EQ(ss_trace_write(w, recs, 3), -EINVAL);
	ASSERT_EQ(ss_trace_write(w, recs, 2), 0);
	ASSERT_EQ(ss_trace_written(w), 2);
	ASSERT_EQ(ss_trace_finish(w, 0, 0, SS_STOP_EXITED, 0), 0);
	unlink(path);
	free(path);
}

TEST(trace_abort_removes_the_partial_file_and_keeps_the_old_one)
{
	struct ss_trace_meta m;
	struct ss_trace_writer *w;
	struct ss_record recs[3] = { make_record(0), make_record(1),
				     make_record(2) };
	char *path = temp_path(), partial[PATH_MAX + 16];
	struct bytes b;

	spill(path, "old", 3);
	fill_meta(&m);
	ASSERT_EQ(ss_trace_create(path, &m, &w), 0);
	snprintf(partial, sizeof(partial), "%s", ss_trace_partial_path(w));
	ASSERT_EQ(access(partial, F_OK), 0);
	ASSERT_EQ(ss_trace_write(w, recs, 3), 0);
	ASSERT_EQ(ss_trace_flush(w), 0);
	ss_trace_abort(w);
	ASSERT_EQ(access(partial, F_OK), -1);
	b = test_slurp(path);
	ASSERT_EQ(b.len, 3);
	ASSERT_EQ(memcmp(b.p, "old", 3), 0);
	unlink(path);
	free(path);
	free(b.p);
}

/* A writer killed before finish (here: a child that exits without it)
 * leaves PATH.partial, never PATH, and the file reads up to its last
 * complete record, saying it is partial.  (Flushed, a writer going around
 * the page cache writes whole 4 KiB blocks: some records may wait.) */
TEST(trace_killed_writer_leaves_a_partial_file_that_reads)
{
	struct ss_trace_meta m;
	struct ss_trace_reader *r;
	char *path = temp_path(), partial[PATH_MAX + 16];
	unsigned long n;
	int rc, status;
	pid_t pid;

	unlink(path);
	snprintf(partial, sizeof(partial), "%s.partial", path);
	fill_meta(&m);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct ss_trace_writer *w;
		if (ss_trace_create(path, &m, &w))
			_exit(1);
		for (int i = 0; i < 200; i++) {
			struct ss_record rec = make_record(i);
			if (ss_trace_write(w, &rec, 1))
				_exit(1);
		}
		_exit(ss_trace_flush(w) ? 1 : 0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_EQ(status, 0);
	ASSERT_EQ(access(path, F_OK), -1);
	ASSERT_EQ(ss_trace_open(partial, &r), 0);
	n = drain(r, &rc);
	ASSERT_GE(n, 100);
	ASSERT_LE(n, 200);
	ASSERT_EQ(rc, 0);
	ASSERT_TRUE(ss_trace_trailer(r) == NULL);
	ASSERT_TRUE(ss_trace_partial(r) != NULL);
	ASSERT_HAS(ss_trace_partial(r), "partial: no trailer after ");
	ASSERT_HAS(ss_trace_error(r), "the recording was cut off");
	ss_trace_close(r);
	unlink(partial);
	free(path);
}

/* ---- the output path (outfile.c) ---- */

TEST(trace_symlink_at_the_output_path_is_replaced_not_followed)
{
	struct ss_trace_meta m = { 0 };
	struct ss_trace_writer *w;
	char *target = temp_path(), *path = temp_path();
	struct bytes b;
	struct stat st;

	spill(target, "precious", 8);
	unlink(path);
	ASSERT_EQ(symlink(target, path), 0);
	ASSERT_EQ(ss_trace_create(path, &m, &w), 0);
	ASSERT_EQ(ss_trace_finish(w, 0, 0, SS_STOP_EXITED, 0), 0);
	b = test_slurp(target);
	ASSERT_EQ(b.len, 8);
	ASSERT_EQ(memcmp(b.p, "precious", 8), 0);
	free(b.p);
	ASSERT_EQ(lstat(path, &st), 0);
	ASSERT_TRUE(S_ISREG(st.st_mode));
	b = test_slurp(path);
	ASSERT_EQ(memcmp(b.p, SS_FILE_MAGIC, 8), 0);
	free(b.p);
	unlink(path);
	unlink(target);
	free(path);
	free(target);
}

TEST(trace_symlink_at_the_partial_path_is_not_followed)
{
	struct ss_trace_meta m = { 0 };
	struct ss_trace_writer *w;
	char *target = temp_path(), *path = temp_path(), partial[PATH_MAX + 16];
	struct bytes b;

	spill(target, "precious", 8);
	unlink(path);
	snprintf(partial, sizeof(partial), "%s.partial", path);
	ASSERT_EQ(symlink(target, partial), 0);
	ASSERT_EQ(ss_trace_create(path, &m, &w), 0);
	/* Taken: the next name. */
	ASSERT_HAS(ss_trace_partial_path(w), ".2.partial");
	ASSERT_EQ(ss_trace_finish(w, 0, 0, SS_STOP_EXITED, 0), 0);
	b = test_slurp(target);
	ASSERT_EQ(memcmp(b.p, "precious", 8), 0);
	free(b.p);
	unlink(partial);
	unlink(path);
	unlink(target);
	free(path);
	free(target);
}

TEST(trace_directory_or_device_as_output_is_refused)
{
	struct ss_trace_meta m = { 0 };
	struct ss_trace_writer *w = (void *)1;
	char dir[] = "/tmp/stallscope-test-dir-XXXXXX";

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	ASSERT_EQ(ss_trace_create(dir, &m, &w), -EISDIR);
	ASSERT_TRUE(w == NULL);
	ASSERT_EQ(ss_trace_create("/dev/null", &m, &w), SS_OUTFILE_NOT_REGULAR);
	ASSERT_HAS(ss_outfile_strerror(SS_OUTFILE_NOT_REGULAR), "not a regular file");
	ASSERT_EQ(access("/dev/null.partial", F_OK), -1);
	ASSERT_EQ(rmdir(dir), 0);
}

/* ---- damaged files ---- */

/* Cut inside the header: an error naming the offset.  Cut anywhere after
 * it: partial, read up to the last complete record. */
TEST(trace_every_truncation_is_an_error_or_partial_naming_an_offset)
{
	struct bytes b = small_trace();
	char *path = temp_path(), want[160];
	struct ss_trace_reader *r;
	__u32 h = hdr(b)->header_len;

	for (size_t len = 0; len < b.len; len++) {
		if (len < h) {
			expect_error(b.p, len, -ENODATA, "truncated at offset ");
		} else {
			unsigned long n = (len - h) / 64;
			int rc;

			if (n > 3)
				n = 3;
			ASSERT_EQ(ss_trace_open_mem(b.p, len, &r), 0);
			ASSERT_EQ(drain(r, &rc), n);
			ASSERT_EQ(rc, 0);
			ASSERT_TRUE(ss_trace_trailer(r) == NULL);
			snprintf(want, sizeof(want),
				 "partial: no trailer after %lu records (the file ends at offset %zu)",
				 n, len);
			ASSERT_HAS(ss_trace_partial(r), want);
			ss_trace_close(r);
		}

		/* The same through a file. */
		int rc;
		spill(path, b.p, len);
		rc = ss_trace_open(path, &r);
		if (rc == 0)
			drain(r, &rc);
		if (rc != (len < h ? -ENODATA : 0))
			FAILF("file of %zu bytes: got %d (%s)", len, rc,
			      ss_trace_error(r));
		if (len < h)
			ASSERT_HAS(ss_trace_error(r), "truncated at offset ");
		else
			ASSERT_TRUE(ss_trace_partial(r) != NULL);
		ASSERT_LE(ss_trace_offset(r), len);
		ss_trace_close(r);
	}
	expect_error(b.p, 0, -ENODATA, "truncated at offset 0: the file is empty");
	expect_error(b.p, 5, -ENODATA, "truncated at offset 5: file header cut short");
	unlink(path);
	free(path);
	free(b.p);
}

TEST(trace_bad_magic_is_not_a_trace)
{
	struct bytes b = small_trace();
	static const char text[] = "hello, world\n";

	b.p[3] ^= 0x20;
	expect_error(b.p, b.len, -EBADMSG,
		     "not a stallscope trace (bad magic at offset 0)");
	expect_error((const unsigned char *)text, sizeof(text) - 1, -EBADMSG,
		     "not a stallscope trace (bad magic at offset 0)");
	expect_error((const unsigned char *)"x", 1, -EBADMSG,
		     "not a stallscope trace (bad magic at offset 0)");
	free(b.p);
}

TEST(trace_newer_min_reader_asks_for_a_newer_stallscope)
{
	struct bytes b = small_trace();
	struct ss_trace_reader *r;
	int rc;

	hdr(b)->version = 4;
	hdr(b)->min_reader = 4;
	expect_error(b.p, b.len, -EPROTONOSUPPORT,
		     "needs stallscope >= 4 (file format 4, this reader reads up to 3)");

	/* A newer format that older readers may still read: read it. */
	hdr(b)->min_reader = 3;
	ASSERT_EQ(ss_trace_open_mem(b.p, b.len, &r), 0);
	ASSERT_EQ(ss_trace_header(r)->version, 4);
	ASSERT_EQ(drain(r, &rc), 3);
	ASSERT_EQ(rc, 0);
	ss_trace_close(r);

	/* Format 2 (before packed blocks) is still read. */
	hdr(b)->version = 2;
	hdr(b)->min_reader = 2;
	ASSERT_EQ(ss_trace_open_mem(b.p, b.len, &r), 0);
	ASSERT_EQ(drain(r, &rc), 3);
	ASSERT_EQ(rc, 0);
	ss_trace_close(r);

	/* Nonsense versions are corruption. */
	hdr(b)->version = 2;
	hdr(b)->min_reader = 3;
	expect_error(b.p, b.len, -EBADMSG, "corrupt at offset 10: min_reader 3 with format version 2");
	hdr(b)->version = 0;
	expect_error(b.p, b.len, -EBADMSG, "corrupt at offset 8: format version 0");
	free(b.p);
}

TEST(trace_tlv_length_past_the_header_end_is_corrupt)
{
	struct bytes b = small_trace();
	struct ss_tlv *first = (struct ss_tlv *)(b.p + 32);
	char want[128];

	first->len = 4000;
	snprintf(want, sizeof(want),
		 "corrupt at offset 32: TLV length 4000 runs past the header end (%u)",
		 hdr(b)->header_len);
	expect_error(b.p, b.len, -EBADMSG, want);
	first->len = UINT32_MAX;
	expect_error(b.p, b.len, -EBADMSG, "TLV length 4294967295 runs past");
	free(b.p);
}

TEST(trace_header_len_must_be_aligned_bounded_and_within_the_file)
{
	struct bytes b = small_trace();
	__u32 h = hdr(b)->header_len;
	char want[160];

	hdr(b)->header_len = h + 4;
	snprintf(want, sizeof(want), "corrupt at offset 12: header_len %u is not a multiple of 8", h + 4);
	expect_error(b.p, b.len, -EBADMSG, want);
	hdr(b)->header_len = (1U << 20) + 8;
	expect_error(b.p, b.len, -EBADMSG, "corrupt at offset 12: header_len 1048584 is over the 1 MiB limit");
	hdr(b)->header_len = 16;
	expect_error(b.p, b.len, -EBADMSG, "corrupt at offset 12: header_len 16 is shorter than the 32-byte file header");
	hdr(b)->header_len = (__u32)((b.len + 8) & ~(size_t)7);
	snprintf(want, sizeof(want), "truncated at offset %zu: the header (header_len %u) runs past the end of the file",
		 b.len, hdr(b)->header_len);
	expect_error(b.p, b.len, -ENODATA, want);
	/* header_len cutting a TLV in two: its length runs past the end. */
	hdr(b)->header_len = 40;
	expect_error(b.p, b.len, -EBADMSG, "corrupt at offset 32: TLV length 8 runs past the header end (40)");
	/* 32: no TLVs at all, which is allowed; the TLV bytes then read as
	 * records, and fail somewhere, with an offset. */
	struct ss_trace_reader *r;
	int rc;
	hdr(b)->header_len = 32;
	ASSERT_EQ(ss_trace_open_mem(b.p, b.len, &r), 0);
	drain(r, &rc);
	ASSERT_LT(rc, 0);
	ASSERT_HAS(ss_trace_error(r), "at offset ");
	ss_trace_close(r);
	free(b.p);
}

TEST(trace_record_size_other_than_64_is_corrupt)
{
	struct bytes b = small_trace();

	hdr(b)->record_size = 48;
	expect_error(b.p, b.len, -EBADMSG, "corrupt at offset 16: record_size 48, expected 64");
	free(b.p);
}

TEST(trace_trailer_count_must_match_the_records)
{
	struct bytes b = small_trace();
	size_t at = b.len - 64;
	struct ss_file_trailer *t = (struct ss_file_trailer *)(b.p + at);
	char want[128];

	t->records = 12;
	snprintf(want, sizeof(want), "trailer at offset %zu says 12 records, file has 3", at);
	ASSERT_EQ(expect_error(b.p, b.len, -EBADMSG, want), 3);
	/* The trailer right after the header: no records. */
	t->records = 3;
	memmove(b.p + hdr(b)->header_len, t, 64);
	snprintf(want, sizeof(want), "trailer at offset %u says 3 records, file has 0", hdr(b)->header_len);
	expect_error(b.p, hdr(b)->header_len + 64, -EBADMSG, want);
	free(b.p);
}

TEST(trace_nothing_may_follow_the_trailer)
{
	struct bytes b = small_trace();
	unsigned char *p = calloc(1, b.len + 64);
	char want[128], *path = temp_path();
	struct ss_trace_reader *r;
	int rc;

	memcpy(p, b.p, b.len);
	snprintf(want, sizeof(want), "corrupt at offset %zu: data after the trailer", b.len);
	ASSERT_EQ(expect_error(p, b.len + 1, -EBADMSG, want), 3);
	ASSERT_EQ(expect_error(p, b.len + 64, -EBADMSG, want), 3);
	/* A second trailer, through a file. */
	memcpy(p + b.len, b.p + b.len - 64, 64);
	spill(path, p, b.len + 64);
	ASSERT_EQ(ss_trace_open(path, &r), 0);
	ASSERT_EQ(drain(r, &rc), 3);
	ASSERT_EQ(rc, -EBADMSG);
	ASSERT_STREQ(ss_trace_error(r), want);
	ss_trace_close(r);
	unlink(path);
	free(path);
	free(p);
	free(b.p);
}

TEST(trace_record_of_type_0_is_corrupt)
{
	struct bytes b = small_trace();
	__u32 h = hdr(b)->header_len;
	struct ss_record *second = (struct ss_record *)(b.p + h + 64);
	char want[64];

	second->type = 0;
	snprintf(want, sizeof(want), "record at offset %u has type 0", h + 64);
	/* The record before it is still delivered. */
	ASSERT_EQ(expect_error(b.p, b.len, -EBADMSG, want), 1);
	memset(second, 0, 64);
	ASSERT_EQ(expect_error(b.p, b.len, -EBADMSG, want), 1);
	free(b.p);
}

TEST(trace_scalar_tlv_of_the_wrong_length_is_corrupt)
{
	struct bytes b = small_trace();
	__u64 pid = 1;

	insert_tlv(&b, SS_TLV_PID, &pid, 8);
	expect_error(b.p, b.len, -EBADMSG, "corrupt at offset 32: PID has length 8, expected 4");
	free(b.p);
	b = small_trace();
	insert_tlv(&b, SS_TLV_START_MONO_NS, &pid, 3);
	expect_error(b.p, b.len, -EBADMSG, "corrupt at offset 32: START_MONO_NS has length 3, expected 8");
	free(b.p);
}

TEST(trace_mapping_and_cmdline_values_are_checked)
{
	struct ss_tlv_mapping fixed = { .start = 1, .end = 2 };
	unsigned char v[sizeof(fixed) + 8];
	struct bytes b = small_trace();

	/* Build id longer than 20 bytes. */
	fixed.build_id_len = 21;
	memcpy(v, &fixed, sizeof(fixed));
	memcpy(v + sizeof(fixed), "/bin/x", 7);
	insert_tlv(&b, SS_TLV_MAPPING, v, sizeof(fixed) + 7);
	expect_error(b.p, b.len, -EBADMSG, "corrupt at offset 64: mapping build id of 21 bytes (at most 20)");
	free(b.p);

	/* Path without its NUL. */
	b = small_trace();
	fixed.build_id_len = 20;
	memcpy(v, &fixed, sizeof(fixed));
	insert_tlv(&b, SS_TLV_MAPPING, v, sizeof(fixed) + 6);
	expect_error(b.p, b.len, -EBADMSG, "corrupt at offset 88: mapping path is not NUL-terminated");
	free(b.p);

	/* A path longer than struct ss_mapping holds. */
	b = small_trace();
	unsigned char *big = calloc(1, sizeof(fixed) + 4097);
	fixed.build_id_len = 0;
	memcpy(big, &fixed, sizeof(fixed));
	memset(big + sizeof(fixed), 'p', 4096);
	insert_tlv(&b, SS_TLV_MAPPING, big, sizeof(fixed) + 4097);
	expect_error(b.p, b.len, -EBADMSG, "corrupt at offset 88: mapping path of 4096 bytes (at most 4095)");
	free(b.p);
	/* 4095 fits. */
	b = small_trace();
	big[sizeof(fixed) + 4095] = '\0';
	insert_tlv(&b, SS_TLV_MAPPING, big, sizeof(fixed) + 4096);
	struct ss_trace_reader *r;
	ASSERT_EQ(ss_trace_open_mem(b.p, b.len, &r), 0);
	ASSERT_EQ(ss_trace_meta(r)->nmappings, 3);
	ASSERT_EQ(strlen(ss_trace_meta(r)->mappings[0].path), 4095);
	ss_trace_close(r);
	free(big);
	free(b.p);

	/* Too short to hold the fixed part. */
	b = small_trace();
	insert_tlv(&b, SS_TLV_MAPPING, v, 10);
	expect_error(b.p, b.len, -EBADMSG, "corrupt at offset 32: MAPPING length 10, at least 49 expected");
	free(b.p);

	/* A command line whose last string lacks its NUL. */
	b = small_trace();
	insert_tlv(&b, SS_TLV_CMDLINE, "ls\0-l", 5);
	expect_error(b.p, b.len, -EBADMSG, "corrupt at offset 32: CMDLINE does not end with a NUL");
	free(b.p);
}

TEST(trace_unknown_tlv_tag_is_skipped)
{
	struct ss_trace_meta m;
	struct bytes b = small_trace();
	struct ss_trace_reader *r;
	int rc;

	fill_meta(&m);
	insert_tlv(&b, 200, "future", 6);
	insert_tlv(&b, 0, "", 0);
	insert_tlv(&b, 13, "\1\2\3\4\5\6\7\10\11", 9);
	ASSERT_EQ(ss_trace_open_mem(b.p, b.len, &r), 0);
	assert_meta_equal(ss_trace_meta(r), &m);
	ASSERT_EQ(drain(r, &rc), 3);
	ASSERT_EQ(rc, 0);
	ss_trace_close(r);
	free(b.p);
}

TEST(trace_later_tlv_of_a_tag_wins)
{
	struct bytes b = small_trace();
	struct ss_trace_reader *r;
	__u32 workers = 9;

	/* Inserted first, so the writer's own TLVs come later and win... */
	insert_tlv(&b, SS_TLV_WORKERS, &workers, 4);
	insert_tlv(&b, SS_TLV_CMDLINE, "a\0b\0c\0", 6);
	ASSERT_EQ(ss_trace_open_mem(b.p, b.len, &r), 0);
	ASSERT_EQ(ss_trace_meta(r)->workers, 4);
	ASSERT_EQ(ss_trace_meta(r)->argc, 4);
	ASSERT_STREQ(ss_trace_meta(r)->argv[3], "two words");
	ss_trace_close(r);
	free(b.p);
}

TEST(trace_long_strings_are_cut_to_their_fields)
{
	struct bytes b = small_trace();
	struct ss_trace_reader *r;
	char comm[40];

	memset(comm, 'x', sizeof(comm));
	/* After the writer's COMM, so this one wins: insert it last. */
	struct ss_tlv t = { .tag = SS_TLV_COMM, .len = sizeof(comm) };
	__u32 h = hdr(b)->header_len;
	unsigned char *p = calloc(1, b.len + 48);
	memcpy(p, b.p, h);
	memcpy(p + h, &t, 8);
	memcpy(p + h + 8, comm, sizeof(comm));
	memcpy(p + h + 48, b.p + h, b.len - h);
	((struct ss_file_header *)p)->header_len = h + 48;
	ASSERT_EQ(ss_trace_open_mem(p, b.len + 48, &r), 0);
	ASSERT_EQ(strlen(ss_trace_meta(r)->comm), 16);
	ss_trace_close(r);
	free(p);
	free(b.p);
}

TEST(trace_unknown_record_types_are_read)
{
	struct ss_trace_meta m = { 0 };
	struct ss_trace_writer *w;
	struct ss_trace_reader *r;
	struct ss_record recs[3] = { make_record(0), make_record(1),
				     make_record(2) }, rec;
	char *path = temp_path();

	recs[0].type = 150;
	recs[1].type = SS_SHIM_LAST;	/* reserved: not defined yet */
	recs[2].type = UINT32_MAX;
	ASSERT_EQ(ss_trace_create(path, &m, &w), 0);
	ASSERT_EQ(ss_trace_write(w, recs, 3), 0);
	ASSERT_EQ(ss_trace_finish(w, 0, 0, SS_STOP_DURATION, -1), 0);
	ASSERT_EQ(ss_trace_open(path, &r), 0);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(ss_trace_next(r, &rec), 1);
		ASSERT_EQ(memcmp(&rec, &recs[i], sizeof(rec)), 0);
		ASSERT_TRUE(ss_type_name(rec.type) == NULL);
	}
	ASSERT_EQ(ss_trace_next(r, &rec), 0);
	ss_trace_close(r);
	unlink(path);
	free(path);
}

TEST(trace_open_of_a_missing_file_explains_itself)
{
	struct ss_trace_reader *r;
	struct ss_record rec;

	ASSERT_EQ(ss_trace_open("/nonexistent-dir/t.ss", &r), -ENOENT);
	ASSERT_TRUE(r != NULL);
	ASSERT_STREQ(ss_trace_error(r), "cannot open: No such file or directory");
	ASSERT_EQ(ss_trace_next(r, &rec), -ENOENT);
	ASSERT_TRUE(ss_trace_trailer(r) == NULL);
	ss_trace_close(r);
	ss_trace_close(NULL);
}

TEST(trace_type_names_cover_every_type)
{
	static const struct {
		__u32 type;
		const char *name;
	} names[] = {
		{ SS_WSRT_WORKER_START, "worker_start" },
		{ SS_WSRT_WORKER_STOP, "worker_stop" },
		{ SS_WSRT_SPAWN, "spawn" },
		{ SS_WSRT_NOTIFY, "notify" },
		{ SS_WSRT_POLL_START, "poll_start" },
		{ SS_WSRT_POLL_END, "poll_end" },
		{ SS_WSRT_STEAL, "steal" },
		{ SS_WSRT_PARK, "park" },
		{ SS_WSRT_UNPARK, "unpark" },
		{ SS_WSRT_WAKE_WORKER, "wake_worker" },
		{ SS_WSRT_INJECT_PUSH, "inject_push" },
		{ SS_WSRT_INJECT_POP, "inject_pop" },
		{ SS_WSRT_OVERFLOW, "overflow" },
		{ SS_WSRT_SEARCH_START, "search_start" },
		{ SS_WSRT_SEARCH_END, "search_end" },
		{ SS_WSRT_TASK_CANCEL, "task_cancel" },
		{ SS_WSRT_DRIVER_POLL, "driver_poll" },
		{ SS_WSRT_IO_REGISTER, "io_register" },
		{ SS_WSRT_IO_READY, "io_ready" },
		{ SS_WSRT_TIMER_FIRE, "timer_fire" },
		{ SS_SHIM_START, "start" },
		{ SS_SHIM_PARK_ENTER, "park_enter" },
		{ SS_SHIM_PARK_EXIT, "park_exit" },
		{ SS_SHIM_FUTEX_WAKE, "futex_wake" },
		{ SS_SHIM_THREAD_NAME, "thread_name" },
		{ SS_SCHED_SWITCH, "sched_switch" },
		{ SS_SCHED_WAKING, "sched_waking" },
		{ SS_FUTEX_ENTER, "futex_enter" },
		{ SS_FUTEX_EXIT, "futex_exit" },
		{ SS_EPOLL_ENTER, "epoll_enter" },
		{ SS_EPOLL_EXIT, "epoll_exit" },
		{ SS_EPOLL_CTL, "epoll_ctl" },
		{ SS_SK_DATA_READY, "sk_data_ready" },
		{ SS_COMM, "comm" },
		{ SS_THREAD_EXIT, "thread_exit" },
		{ SS_THREAD_NEW, "thread_new" },
		{ SS_VCPU_STEAL, "vcpu_steal" },
		{ SS_READY_TAKEN, "ready_taken" },
		{ SS_LOST, "lost" },
		{ SS_THREAD_AT_ATTACH, "thread_at_attach" },
		{ SS_TOKIO_RUNTIME, "tokio_runtime" },
	};
	unsigned named = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *got = ss_type_name(names[i].type);

		if (!got)
			FAILF("type %u has no name", names[i].type);
		ASSERT_STREQ(got, names[i].name);
	}
	/* Nothing else has a name: the table above is every type. */
	for (__u32 t = 0; t < 1024; t++)
		named += ss_type_name(t) != NULL;
	ASSERT_EQ(named, sizeof(names) / sizeof(names[0]));
	ASSERT_TRUE(ss_type_name(SS_NONE) == NULL);
	ASSERT_TRUE(ss_type_name(SS_SHIM_LAST) == NULL);
	ASSERT_TRUE(ss_type_name(UINT32_MAX) == NULL);
}

TEST(trace_layout_is_the_documented_one)
{
	struct bytes b = small_trace();
	const struct ss_file_header *h = hdr(b);
	const struct ss_file_trailer *t =
		(const struct ss_file_trailer *)(b.p + b.len - 64);
	size_t pos = 32;
	unsigned tlvs = 0;

	ASSERT_EQ(memcmp(h->magic, "STALLSCP", 8), 0);
	ASSERT_EQ(h->version, 3);
	ASSERT_EQ(h->min_reader, 3);
	ASSERT_EQ(h->record_size, 64);
	ASSERT_EQ(h->flags, SS_FILE_KERNEL_ONLY);
	ASSERT_EQ(h->reserved, 0);
	ASSERT_EQ(h->header_len % 8, 0);
	ASSERT_EQ(b.len, h->header_len + 3 * 64 + 64);
	/* TLVs tile the header exactly, each padded with zeros. */
	while (pos < h->header_len) {
		struct ss_tlv tlv;

		memcpy(&tlv, b.p + pos, sizeof(tlv));
		ASSERT_EQ(tlv.reserved, 0);
		size_t end = pos + 8 + tlv.len, padded = pos + 8 + ((tlv.len + 7) & ~7U);
		for (size_t k = end; k < padded; k++)
			ASSERT_EQ(b.p[k], 0);
		pos = padded;
		tlvs++;
	}
	ASSERT_EQ(pos, h->header_len);
	ASSERT_EQ(tlvs, 11 + 2);	/* every tag, two mappings */
	ASSERT_EQ(memcmp(t->magic, "SSTRAILR", 8), 0);
	ASSERT_EQ(t->records, 3);
	/* The events' span: records 0..2 at 1 s + i * 37 ns. */
	ASSERT_EQ(t->flags, SS_TRAILER_SPAN);
	ASSERT_EQ(t->first_ns, 1000000000ULL);
	ASSERT_EQ(t->last_ns, 1000000000ULL + 2 * 37);
	free(b.p);
}

TEST(trace_span_is_known_before_reading_and_checked_at_the_end)
{
	struct bytes b = small_trace();
	struct ss_file_trailer *t = (struct ss_file_trailer *)(b.p + b.len - 64);
	struct ss_trace_reader *r;
	__u64 first = 0, last = 0;
	int rc;

	/* Known from the trailer, before any record is read. */
	ASSERT_EQ(ss_trace_open_mem(b.p, b.len, &r), 0);
	ASSERT_TRUE(ss_trace_span(r, &first, &last));
	ASSERT_EQ(first, 1000000000ULL);
	ASSERT_EQ(last, 1000000000ULL + 2 * 37);
	ASSERT_EQ(drain(r, &rc), 3);
	ASSERT_EQ(rc, 0);
	ss_trace_close(r);

	/* A trailer that lies about it: not used to lay out a window when
	 * impossible (first after last), an error when reading reaches it. */
	t->last_ns += 1;
	expect_error(b.p, b.len, -EBADMSG, "says the events span 1000000000-1000000075 ns, "
		     "the file's span 1000000000-1000000074");
	t->first_ns = t->last_ns + 1;
	ASSERT_EQ(ss_trace_open_mem(b.p, b.len, &r), 0);
	ASSERT_FALSE(ss_trace_span(r, &first, &last));
	ss_trace_close(r);

	/* A file from before the span (flags 0): not known, reads clean. */
	t->flags = 0;
	t->first_ns = t->last_ns = 0;
	ASSERT_EQ(ss_trace_open_mem(b.p, b.len, &r), 0);
	ASSERT_FALSE(ss_trace_span(r, &first, &last));
	ASSERT_EQ(drain(r, &rc), 3);
	ASSERT_EQ(rc, 0);
	ss_trace_close(r);
	free(b.p);
}

/* ---- ring blocks, packed (userspace/ringpack.c) ---- */

static __u64 xs(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* n slots as a runtime's ring holds them: events tens of ns apart, one
 * sequence, a notify (one slot) and a spawn (two) in turn, tasks from one
 * allocator; every tenth a gap in the sequence (a slot skipped). */
static void runtime_slots(struct ss_ring_slot *s, unsigned n, __u64 seed)
{
	__u64 ts = 1000000, seq = 77;

	for (unsigned i = 0; i < n; i++) {
		bool second = i && s[i - 1].type == SS_WSRT_SPAWN;

		ts += 20 + xs(&seed) % 60;
		seq += (i % 10 == 9 && !second) ? 3 : 1;
		s[i] = (struct ss_ring_slot){ .ts = ts, .seq = (__u16)seq, .a = 1,
					      .x = 0x7f0000001000ULL + 64 * (xs(&seed) % 100),
					      .y = i };
		if (second) {
			s[i].type = SS_RING_EXT;
			s[i].ts = xs(&seed);	/* an argument */
		} else {
			s[i].type = i + 1 < n && i % 3 == 1 ? SS_WSRT_SPAWN : SS_WSRT_NOTIFY;
		}
	}
}

/* Any slot values, types past 253 and the second-slot type among them:
 * what is packed unpacks to the same bytes; the packing fits in
 * SS_RINGPACK_SLOT_MAX a slot, and refuses a buffer too small. */
TEST(trace_ringpack_round_trips_any_slots)
{
	static struct ss_ring_slot in[SS_BLOCK_MAX_SLOTS], out[SS_BLOCK_MAX_SLOTS];
	static unsigned char buf[SS_BLOCK_MAX_SLOTS * SS_RINGPACK_SLOT_MAX];
	static const __u16 types[] = { 1, 5, 6, 65, 66, 253, 254, 255, 0xfffe, SS_RING_EXT };
	unsigned sizes[] = { 1, 2, 3, 17, 1000, SS_BLOCK_MAX_SLOTS };
	__u64 seed = 0x9e3779b97f4a7c15ULL;

	for (unsigned round = 0; round < 40; round++) {
		unsigned n = sizes[round % 6];

		for (unsigned i = 0; i < n; i++) {
			__u64 r = xs(&seed);

			in[i].type = types[r % 10];
			/* Extremes, small moves, and anything. */
			in[i].ts = r % 7 == 0 ? UINT64_MAX : r % 7 == 1 ? (__u64)0 : i ? in[i - 1].ts + r % 100 : r;
			in[i].seq = (__u16)(r % 5 ? (i ? (__u64)in[i - 1].seq + 1 : r) : r >> 16);
			in[i].a = (__u32)(r % 3 ? (r >> 8) : 0xffffffffU);
			in[i].x = r % 4 ? xs(&seed) : 0;
			in[i].y = r % 6 ? (__u64)-(__s64)(r % 1000) : UINT64_MAX;
		}
		size_t len = ss_ringpack_encode(in, n, buf, sizeof(buf));
		ASSERT_GT(len, 0);
		ASSERT_LE(len, (size_t)n * SS_RINGPACK_SLOT_MAX);
		memset(out, 0xa5, sizeof(out));
		ASSERT_EQ(ss_ringpack_decode(buf, len, out, n), 0);
		ASSERT_EQ(memcmp(in, out, n * sizeof(*in)), 0);
		ASSERT_EQ(ss_ringpack_encode(in, n, buf, len - 1), 0);
	}
	/* A runtime's slots: under a third of their 32 bytes. */
	runtime_slots(in, SS_BLOCK_MAX_SLOTS, 1);
	size_t len = ss_ringpack_encode(in, SS_BLOCK_MAX_SLOTS, buf, sizeof(buf));
	ASSERT_GT(len, 0);
	ASSERT_LT(len, SS_BLOCK_MAX_SLOTS * sizeof(struct ss_ring_slot) / 3);
	ASSERT_EQ(ss_ringpack_decode(buf, len, out, SS_BLOCK_MAX_SLOTS), 0);
	ASSERT_EQ(memcmp(in, out, sizeof(in)), 0);
}

/* Bytes from a file: exactly n packed slots or an error, never a read
 * past the end (ASan), whatever they hold. */
TEST(trace_ringpack_refuses_what_is_not_exactly_its_slots)
{
	struct ss_ring_slot in[64], out[65];
	unsigned char buf[64 * SS_RINGPACK_SLOT_MAX + 1];
	__u64 seed = 12345;
	size_t len;

	runtime_slots(in, 64, 2);
	len = ss_ringpack_encode(in, 64, buf, sizeof(buf));
	ASSERT_GT(len, 0);
	for (size_t cut = 0; cut < len; cut++) {
		unsigned char *copy = malloc(cut ? cut : 1);

		memcpy(copy, buf, cut);
		ASSERT_EQ(ss_ringpack_decode(copy, cut, out, 64), -EBADMSG);
		free(copy);
	}
	buf[len] = 0;
	ASSERT_EQ(ss_ringpack_decode(buf, len + 1, out, 64), -EBADMSG);	/* a byte left */
	ASSERT_EQ(ss_ringpack_decode(buf, len, out, 65), -EBADMSG);	/* a slot short */
	ASSERT_EQ(ss_ringpack_decode(buf, len, out, 64), 0);
	buf[1] = 0x30;	/* mask bits no slot has */
	ASSERT_EQ(ss_ringpack_decode(buf, len, out, 64), -EBADMSG);
	/* Noise: an error or 64 slots, nothing else. */
	for (unsigned round = 0; round < 2000; round++) {
		size_t n = xs(&seed) % sizeof(buf);
		unsigned char *copy = malloc(n ? n : 1);

		for (size_t i = 0; i < n; i++)
			copy[i] = (unsigned char)(xs(&seed) % 7 ? xs(&seed) : 0);
		int rc = ss_ringpack_decode(copy, n, out, 1 + xs(&seed) % 64);
		ASSERT_TRUE(rc == 0 || rc == -EBADMSG);
		free(copy);
	}
}

/* A block of a runtime's events goes into the file packed (a third of
 * the bytes), a block of one slot as it is; both read back as the same
 * events, and every cut of the file reads as an error or partial. */
TEST(trace_blocks_are_written_packed_and_read_back)
{
	static struct ss_ring_slot s[SS_BLOCK_MAX_SLOTS];
	struct ss_ring_chunk h = { .type = SS_RING_CHUNK, .tid = 42, .count = SS_BLOCK_MAX_SLOTS };
	struct ss_ring_chunk one = { .type = SS_RING_CHUNK, .tid = 43, .count = 1 };
	struct ss_trace_meta m;
	struct ss_trace_writer *w;
	struct ss_trace_reader *r;
	struct ss_record rec, want;
	char *path = temp_path();
	unsigned events = 0, i, k, packed = 0, plain = 0;
	struct bytes b;
	int rc;

	runtime_slots(s, SS_BLOCK_MAX_SLOTS, 3);
	fill_meta(&m);
	ASSERT_EQ(ss_trace_create(path, &m, &w), 0);
	ASSERT_EQ(ss_trace_write_block(w, &h, s), 0);
	ASSERT_EQ(ss_trace_write_block(w, &one, s), 0);
	ASSERT_EQ(ss_trace_finish(w, 0, 1, SS_STOP_EXITED, 0), 0);
	b = test_slurp(path);
	/* What is in the file: the records' types, walked by their sizes. */
	for (size_t off = hdr(b)->header_len; off + 64 < b.len;) {
		const struct ss_ring_chunk *c = (const struct ss_ring_chunk *)(b.p + off);
		__u32 len;

		if (c->type == SS_RING_PACKED) {
			memcpy(&len, c + 1, sizeof(len));
			ASSERT_EQ(c->count, SS_BLOCK_MAX_SLOTS);
			ASSERT_LT(len, SS_BLOCK_MAX_SLOTS * sizeof(struct ss_ring_slot) / 3);
			off += 64 + (4 + len + 63) / 64 * 64;
			packed++;
		} else {
			ASSERT_EQ(c->type, SS_RING_BLOCK);
			ASSERT_EQ(c->count, 1);
			off += 128;
			plain++;
		}
	}
	ASSERT_EQ(packed, 1);
	ASSERT_EQ(plain, 1);
	/* Every event back, in order. */
	ASSERT_EQ(ss_trace_open_mem(b.p, b.len, &r), 0);
	for (i = 0; i < SS_BLOCK_MAX_SLOTS; i += k, events++) {
		k = ss_ringdec_one(&s[i], SS_BLOCK_MAX_SLOTS - i, 42, &want);
		ASSERT_GT(k, 0);
		ASSERT_EQ(ss_trace_next(r, &rec), 1);
		ASSERT_EQ(memcmp(&rec, &want, sizeof(rec)), 0);
	}
	ASSERT_EQ(ss_ringdec_one(s, 1, 43, &want), 1);
	ASSERT_EQ(ss_trace_next(r, &rec), 1);
	ASSERT_EQ(memcmp(&rec, &want, sizeof(rec)), 0);
	ASSERT_EQ(ss_trace_next(r, &rec), 0);
	ASSERT_TRUE(ss_trace_trailer(r) != NULL);
	ss_trace_close(r);
	ASSERT_GT(events, 1000);
	/* Cut anywhere: an error or a partial file, never a crash. */
	for (size_t cut = hdr(b)->header_len; cut < b.len; cut += 7) {
		ASSERT_EQ(ss_trace_open_mem(b.p, cut, &r), 0);
		while ((rc = ss_trace_next(r, &rec)) == 1)
			;
		ASSERT_TRUE(rc < 0 || ss_trace_partial(r) != NULL);
		ss_trace_close(r);
	}
	unlink(path);
	free(path);
	free(b.p);
}

/* A packed block whose byte count cannot be its slots', or whose bytes
 * are not slots, is corrupt, named by its offset. */
TEST(trace_packed_block_that_does_not_unpack_is_corrupt)
{
	static struct ss_ring_slot s[100];
	struct ss_ring_chunk h = { .type = SS_RING_CHUNK, .tid = 42, .count = 100 };
	struct ss_trace_meta m;
	struct ss_trace_writer *w;
	char *path = temp_path();
	struct bytes b;
	__u32 len, bad;
	size_t at;

	runtime_slots(s, 100, 4);
	fill_meta(&m);
	ASSERT_EQ(ss_trace_create(path, &m, &w), 0);
	ASSERT_EQ(ss_trace_write_block(w, &h, s), 0);
	ASSERT_EQ(ss_trace_finish(w, 0, 1, SS_STOP_EXITED, 0), 0);
	b = test_slurp(path);
	at = hdr(b)->header_len;
	ASSERT_EQ(((struct ss_ring_chunk *)(b.p + at))->type, SS_RING_PACKED);
	memcpy(&len, b.p + at + 64, sizeof(len));
	bad = 299;	/* under 3 bytes a slot */
	memcpy(b.p + at + 64, &bad, sizeof(bad));
	char msg[96];
	snprintf(msg, sizeof(msg), "packed block at offset %zu: 299 bytes for 100 slots", at);
	expect_error(b.p, b.len, -EBADMSG, msg);
	bad = 100 * SS_RINGPACK_SLOT_MAX + 1;
	memcpy(b.p + at + 64, &bad, sizeof(bad));
	expect_error(b.p, b.len, -EBADMSG, "bytes for 100 slots");
	memcpy(b.p + at + 64, &len, sizeof(len));
	b.p[at + 64 + 4 + 1] = 0xf0;	/* the first slot's mask */
	snprintf(msg, sizeof(msg), "packed block at offset %zu: corrupt slots", at);
	expect_error(b.p, b.len, -EBADMSG, msg);
	unlink(path);
	free(path);
	free(b.p);
}
