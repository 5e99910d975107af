/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the trace file reader: the input is a whole file,
 * opened with ss_trace_open_mem() and read to its end.  ASan catches any
 * read past the input; the checks below trap on a broken invariant:
 * offsets only grow and stay within the input, a record is 64 bytes of
 * the input or an event of a block of 32-byte ring slots (so at most one
 * per 32 bytes), a clean end means a trailer that ends the input, an
 * error always has a message, and the metadata is well formed.  The same bytes read
 * through a file (a memfd, via ss_trace_open) must give the same records,
 * end and message: the buffered file path is checked against the memory
 * one.  Every record is also printed as `dump` prints it (the record
 * schema's text form), to /dev/null.  Seeds: tests/fuzz/corpus/trace_read/.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *     tests/fuzz/fuzz_trace_read.c userspace/trace_read.c userspace/trace_write.c userspace/schema.c \
 *     userspace/schema_parse.c userspace/outfile.c userspace/ringdec.c userspace/ringpack.c -o fz
 *   ./fz -max_total_time=60 CORPUS_COPY/ tests/fuzz/corpus/trace_read/
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "userspace/schema.h"
#include "userspace/trace.h"
#include "tests/fuzz/fuzz.h"

static void check_meta(const struct ss_trace_meta *m)
{
	CHECK(TERMINATED(m->host) && TERMINATED(m->kernel));
	CHECK(TERMINATED(m->clock) && TERMINATED(m->comm));
	CHECK(TERMINATED(m->recorder));
	CHECK(m->argc == 0 || (m->argv && m->argv[m->argc] == NULL));
	for (unsigned i = 0; i < m->argc; i++)
		CHECK(m->argv[i] != NULL);
	CHECK(m->nmappings == 0 || m->mappings);
	for (unsigned i = 0; i < m->nmappings; i++) {
		CHECK(m->mappings[i].build_id_len <= 20);
		CHECK(TERMINATED(m->mappings[i].path));
	}
}

/* Reads data through a memfd and checks it agrees with the memory
 * reader's records (recs, n), final code rc and message. */
static void check_file_agrees(const uint8_t *data, size_t size,
			      const struct ss_record *recs, unsigned long long n,
			      int rc, const char *msg, __u64 end_off)
{
	static int fd = -1;
	struct ss_trace_reader *r;
	struct ss_record rec;
	unsigned long long k = 0;
	char path[64];
	int frc;

	if (fd < 0)
		fd = memfd_create("fuzz_trace_read", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	frc = ss_trace_open(path, &r);
	if (!r)
		return;
	if (frc == 0)
		while ((frc = ss_trace_next(r, &rec)) == 1) {
			CHECK(k < n && !memcmp(&rec, &recs[k], sizeof(rec)));
			k++;
		}
	CHECK(frc == rc && k == n);
	CHECK(!strcmp(ss_trace_error(r), msg));
	CHECK(ss_trace_offset(r) == end_off);
	ss_trace_close(r);
}

/* Where records are printed: /dev/null, opened once. */
static FILE *sink(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "w");
	CHECK(f != NULL);
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_trace_reader *r;
	struct ss_record rec;
	unsigned long long n = 0;
	__u64 last;
	/* At most one record per 32 bytes: a 64-byte record, or one of a
	 * block's ring slots (an event takes one or two). */
	struct ss_record *recs = malloc((size / 32 + 1) * sizeof(rec));
	int rc = ss_trace_open_mem(data, size, &r);

	if (!r || !recs) {	/* -ENOMEM */
		ss_trace_close(r);
		free(recs);
		return 0;
	}
	last = ss_trace_offset(r);
	CHECK(last <= size);
	if (rc == 0) {
		const struct ss_file_header *h = ss_trace_header(r);

		CHECK(last == h->header_len && h->header_len % 8 == 0);
		CHECK(h->min_reader <= SS_READER_VERSION);
		check_meta(ss_trace_meta(r));
		while ((rc = ss_trace_next(r, &rec)) == 1) {
			CHECK(rec.type != SS_NONE && rec.type != SS_RING_BLOCK);
			/* Past a record, or a block (then still, for its
			 * other events), always within the input. */
			CHECK(ss_trace_offset(r) >= last);
			CHECK((ss_trace_offset(r) - last) % sizeof(rec) == 0);
			last = ss_trace_offset(r);
			CHECK(last <= size);
			CHECK(ss_trace_trailer(r) == NULL);
			CHECK(n <= size / 32);
			recs[n++] = rec;
			/* Printed as dump prints it (the schema's text form),
			 * whatever its arguments: no read out of bounds. */
			ss_schema_put_fields(sink(), &rec);
		}
	}
	CHECK(rc <= 0);
	CHECK(ss_trace_offset(r) >= last && ss_trace_offset(r) <= size);
	if (rc == 0 && ss_trace_partial(r)) {
		/* No trailer: read up to the last complete record. */
		CHECK(ss_trace_trailer(r) == NULL);
		CHECK(strstr(ss_trace_partial(r), "partial: no trailer after ") != NULL);
		CHECK(ss_trace_next(r, &rec) == 0);
	} else if (rc == 0) {
		const struct ss_file_trailer *t = ss_trace_trailer(r);

		CHECK(t != NULL);
		CHECK(!memcmp(t->magic, SS_TRAILER_MAGIC, 8));
		/* The trailer ends the input exactly; it counts 64-byte
		 * units (a block's header and slots too), at least one per
		 * two records. */
		CHECK(ss_trace_offset(r) == size);
		CHECK(size == ss_trace_header(r)->header_len + (t->records + 1) * 64);
		CHECK(2 * t->records >= n);
		CHECK(ss_trace_error(r)[0] == '\0');
		/* The end sticks. */
		CHECK(ss_trace_next(r, &rec) == 0);
	} else {
		CHECK(ss_trace_trailer(r) == NULL);
		CHECK(ss_trace_error(r)[0] != '\0');
		/* Every problem in the bytes is placed at an offset. */
		if (rc != -EPROTONOSUPPORT && rc != -ENOMEM)
			CHECK(strstr(ss_trace_error(r), "offset ") != NULL);
		CHECK(ss_trace_next(r, &rec) == rc);
	}
	check_file_agrees(data, size, recs, n, rc, ss_trace_error(r),
			  ss_trace_offset(r));
	ss_trace_close(r);
	free(recs);
	return 0;
}
