/* SPDX-License-Identifier: MIT */
/*
 * The trace file: its on-disk layout (format version 1, documented for
 * users in docs/trace-format.md), a buffered writer for the recorder and
 * a streaming reader for everything that consumes a trace.
 *
 *   file header (32 bytes)            struct ss_file_header
 *   metadata TLVs, to header_len      struct ss_tlv + value + zero padding
 *   records (64 bytes each)           struct ss_record (bpf/record.h), or
 *                                     a block of event-ring slots: a 64-byte
 *                                     SS_RING_BLOCK header, then its slots
 *                                     (32 bytes each) padded to 64 bytes
 *   trailer (64 bytes), last          struct ss_file_trailer
 *
 * All fields are little-endian (x86_64 native) and naturally aligned.
 * The reader checks every length against the bytes it has, keeps its
 * memory independent of the number of records, and describes the first
 * problem it meets in one line naming the byte offset.
 *
 * What the records mean is bpf/record.h's business; this module only
 * moves them (and rejects type 0), and hands out a block's events as
 * records (userspace/ringdec.c decodes them; a slot that is not part of a
 * whole known event makes the file corrupt).  It prints nothing: callers get 0 or
 * -errno, and the reader's message from ss_trace_error().
 */
#ifndef STALLSCOPE_TRACE_H
#define STALLSCOPE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "bpf/record.h"
#include "bpf/ring.h"

#define SS_FILE_MAGIC "STALLSCP"	/* 8 bytes, no NUL */
#define SS_FILE_VERSION 3		/* this writer's format version (3: packed blocks) */
#define SS_READER_VERSION 3		/* the newest format this reader reads */
/* Slots in one SS_RING_BLOCK, at most (the reader holds one block). */
#define SS_BLOCK_MAX_SLOTS 4096
#define SS_FILE_KERNEL_ONLY (1U << 0)	/* flags: recorded with --kernel-only */
/* flags: the runtime's own probes (wsrt's) were attached: the runtime
 * numbers its workers itself, so none is guessed from how threads park. */
#define SS_FILE_RUNTIME_PROBES (1U << 1)
/* flags: no syscall was hooked; the preload shim's park_enter/park_exit
 * (its event rings) stand for the futex and epoll syscall records
 * (analyzers read them as those: ss_shim_park_as_syscall) */
#define SS_FILE_SHIM_PARKS (1U << 2)
/* flags: no syscall was hooked; the futex and epoll records were made
 * from the target's sleeps at sched_switch (bpf/record.h), and a
 * readiness harvested by a wait that did not sleep is told by
 * SS_READY_TAKEN (--kernel-only: docs/recording.md) */
#define SS_FILE_SLEEP_PARKS (1U << 3)
/* flags: the event rings' drains copied in pieces of 2^k slots (a
 * kernel without the dynptr copies of user memory: bpf/ring_drain.bpf.h),
 * each piece judged against its own second read of the ring's head;
 * otherwise a claim went whole, judged against one */
#define SS_FILE_RING_PIECES (1U << 4)
/* flags: recorded with --no-readiness: no sk_data_ready (readiness
 * arriving), so no idle_but_parked can be found in it */
#define SS_FILE_NO_READINESS (1U << 5)
#define SS_FILE_FLAGS_KNOWN (SS_FILE_KERNEL_ONLY | SS_FILE_RUNTIME_PROBES | SS_FILE_SHIM_PARKS | \
			     SS_FILE_SLEEP_PARKS | SS_FILE_RING_PIECES | SS_FILE_NO_READINESS)

/* The reader refuses a longer header rather than allocate for it. */
#define SS_HEADER_MAX (1U << 20)

struct ss_file_header {
	char magic[8];
	__u16 version;		/* format version of the file */
	__u16 min_reader;	/* oldest reader format version that can read it */
	__u32 header_len;	/* file start to the first record: 32 + TLVs, a multiple of 8 */
	__u32 record_size;	/* 64 (sizeof(struct ss_record)) */
	__u32 flags;		/* SS_FILE_* */
	__u64 reserved;		/* 0 */
};

_Static_assert(sizeof(struct ss_file_header) == 32, "trace file header: 32 bytes");

/* A metadata item: the header, then len bytes of value, then zero
 * padding to a multiple of 8.  Readers skip tags they don't know. */
struct ss_tlv {
	__u16 tag;		/* enum ss_tlv_tag */
	__u16 reserved;		/* 0 */
	__u32 len;		/* value bytes, padding not counted */
};

_Static_assert(sizeof(struct ss_tlv) == 8, "trace file TLV header: 8 bytes");

/* Strings are stored without a NUL unless said otherwise. */
enum ss_tlv_tag {
	SS_TLV_HOST = 1,		/* string: nodename */
	SS_TLV_KERNEL = 2,		/* string: uname release */
	SS_TLV_CLOCK = 3,		/* string: "CLOCK_MONOTONIC" */
	SS_TLV_START_MONO_NS = 4,	/* u64 */
	SS_TLV_START_REALTIME_NS = 5,	/* u64 */
	SS_TLV_PID = 6,			/* u32 */
	SS_TLV_COMM = 7,		/* string */
	SS_TLV_CMDLINE = 8,		/* the argv strings, each NUL-terminated */
	SS_TLV_WORKERS = 9,		/* u32; 0 = unknown */
	SS_TLV_MAPPING = 10,		/* struct ss_tlv_mapping + path + NUL */
	SS_TLV_RECORDER = 11,		/* string: "stallscope 0.1" */
	SS_TLV_RING_BYTES = 12,		/* u64 */
};

/* The fixed part of a MAPPING value; the path follows, NUL-terminated. */
struct ss_tlv_mapping {
	__u64 start;
	__u64 end;
	__u64 file_offset;
	__u8 build_id_len;	/* 0..20 */
	__u8 build_id[20];
	__u8 pad[3];		/* 0 */
};

_Static_assert(sizeof(struct ss_tlv_mapping) == 48, "trace file mapping: 48 bytes");

#define SS_TRAILER_MAGIC "SSTRAILR"	/* 8 bytes, no NUL */

/* Stop reasons (ss_file_trailer.stop_reason). */
#define SS_STOP_EXITED 1	/* the target exited */
#define SS_STOP_SIGNAL 2	/* Ctrl-C / SIGTERM */
#define SS_STOP_DURATION 3	/* --duration elapsed */
#define SS_STOP_ERROR 4		/* the recorder failed */
#define SS_STOP_WINDOW 5	/* a window cut from a longer recording (live's w, a watch snapshot) */

/*
 * Last in the file, and as long as a record: a 64-byte block whose first
 * 8 bytes spell the magic is the trailer (as a record timestamp they
 * would mean 188 years of uptime).  Nothing may follow it.
 */
struct ss_file_trailer {
	char magic[8];
	__u64 records;		/* 64-byte units before it: records, blocks' */
	__u64 lost;		/* events lost (sum of SS_LOST records' counts) */
	__u64 end_mono_ns;	/* when recording stopped */
	__u32 stop_reason;	/* SS_STOP_* */
	__s32 exit_status;	/* the target's wait status if it exited, else -1 */
	/* With SS_TRAILER_SPAN in flags: the earliest and the latest time of
	 * an event in the file (what a reader would find reading it all), so
	 * that a view can lay out its window before it reads.  0 in files
	 * from before it. */
	__u64 first_ns, last_ns;
	__u64 flags;
};

#define SS_TRAILER_SPAN 1	/* first_ns and last_ns are set */

_Static_assert(sizeof(struct ss_file_trailer) == 64, "trace file trailer: 64 bytes");
_Static_assert(sizeof(struct ss_file_trailer) == sizeof(struct ss_record),
	       "the trailer takes a record's place");

struct ss_mapping {
	__u64 start, end, offset;
	__u8 build_id[20];
	__u8 build_id_len;
	char path[4096];
};

/*
 * What the header says.  The writer reads the strings up to their NUL
 * (at most sizeof - 1 bytes), argv[0..argc) and mappings[0..nmappings);
 * the reader fills every field (empty / 0 for a TLV the file lacks) and
 * owns argv and mappings until ss_trace_close().
 */
struct ss_trace_meta {
	char host[256], kernel[256], clock[32], comm[17], recorder[64];
	__u64 start_mono_ns, start_realtime_ns, ring_bytes;
	__u32 pid, workers, flags;
	char **argv;
	unsigned argc;
	struct ss_mapping *mappings;
	unsigned nmappings;
};

struct ss_trace_writer;
struct ss_trace_reader;

/*
 * Writer.  ss_trace_create() writes the header and TLVs at once into
 * PATH.partial (outfile.h: created with O_EXCL and mode 0600, given to
 * the sudo user; PATH itself must not be a directory or a device) and
 * ss_trace_finish() renames it over PATH when the trailer is written, so
 * PATH never holds half a trace and an existing PATH (or a symlink there)
 * is replaced, never written through.  A writer that dies before leaves
 * PATH.partial, which readers read as partial.  An empty clock is written
 * as "CLOCK_MONOTONIC".  ss_trace_create() returns -EINVAL for a count
 * without its array or a build_id_len over 20, -E2BIG if the header would
 * pass SS_HEADER_MAX (a command line of about 1 MiB), else outfile's or
 * write's -errno; it leaves no file when it fails.  Records are buffered
 * (1 MiB buffers, up to 16 while the disk is behind) and written around
 * the page cache where the filesystem allows (trace_write.c says why), by
 * threads of the writer's own; a write error sticks and every later call
 * returns it.
 * ss_trace_write() refuses (-EINVAL, none of the batch written) records
 * of type 0 or whose first 8 bytes spell the trailer magic: the reader
 * would reject the file.
 */
int ss_trace_create(const char *path, const struct ss_trace_meta *meta,
		    struct ss_trace_writer **out);
int ss_trace_fd(const struct ss_trace_writer *w);
/* Where the records go until ss_trace_finish() (PATH.partial). */
const char *ss_trace_partial_path(const struct ss_trace_writer *w);
int ss_trace_write(struct ss_trace_writer *w, const struct ss_record *recs,
		   size_t n);
/* A block of event-ring slots (their ts CLOCK_MONOTONIC ns): hdr (type
 * set to SS_RING_BLOCK here) and hdr->count slots, 1..SS_BLOCK_MAX_SLOTS,
 * each starting or continuing a whole known event.  -EINVAL if not. */
int ss_trace_write_block(struct ss_trace_writer *w, const struct ss_ring_chunk *hdr,
			 const struct ss_ring_slot *slots);
/* The same without a copy: room for up to n slots in the writer's buffer
 * (NULL: an error, or n out of range), filled by the caller, then
 * ss_trace_block_end() with the slots used (0: none, nothing written). */
struct ss_ring_slot *ss_trace_block_begin(struct ss_trace_writer *w,
					  const struct ss_ring_chunk *hdr, __u32 n);
int ss_trace_block_end(struct ss_trace_writer *w, __u32 used);
/* The same for slots the caller has checked (whole known events: ringrec's
 * blocks), their ts from min_ts to max_ts: not checked again (a pass over
 * every slot: 4-5 ns an event of the recorder's CPU at yield_many's rate,
 * measured). */
int ss_trace_block_end_checked(struct ss_trace_writer *w, __u32 used, __u64 min_ts,
			       __u64 max_ts);
/* The same for checked slots the caller packed in the block's room
 * (ringpack.h): a __u32 of len, then len bytes, fewer than the slots'. */
int ss_trace_block_end_packed(struct ss_trace_writer *w, __u32 used, __u32 len,
			      __u64 min_ts, __u64 max_ts);
/* Writes what is buffered: all of it through the page cache, or, going
 * around it (O_DIRECT, where the filesystem allows), its whole 4 KiB
 * blocks — the rest waits for the next flush or the end; returns once it
 * is written.  A full buffer is handed to writer threads (blockwrite.h)
 * without waiting; ss_trace_push hands over what is buffered that way. */
int ss_trace_flush(struct ss_trace_writer *w);
int ss_trace_push(struct ss_trace_writer *w);
/* 64-byte units written so far (what the trailer counts). */
__u64 ss_trace_written(const struct ss_trace_writer *w);
/* Writes the trailer (records = written so far), flushes, closes, renames
 * the file into place, and frees, even on error; on error the partial
 * file stays (copy its name first to say where). */
int ss_trace_finish(struct ss_trace_writer *w, __u64 lost, __u64 end_mono_ns,
		    __u32 stop_reason, __s32 exit_status);
/* Closes, removes the partial file and frees. */
void ss_trace_abort(struct ss_trace_writer *w);

/*
 * Reader: streaming, memory independent of the number of records.
 *
 * ss_trace_open() returns 0 or -errno.  *out is set even on failure (a
 * missing file, a bad header) so that ss_trace_error() can be read, and
 * must be closed; it is NULL only when the reader itself could not be
 * allocated (-ENOMEM).  Errors: -EBADMSG (not a trace, or
 * corrupt), -ENODATA (the file ends inside its header), -EPROTONOSUPPORT
 * (a newer format), -ENOMEM, or an I/O errno.  A file whose records end
 * without a trailer (its recorder was killed, or it was cut short) is
 * partial, not an error: it reads up to its last complete record, and
 * ss_trace_partial() says so.
 * ss_trace_open_mem() reads the same from memory, which must outlive the
 * reader.
 */
int ss_trace_open(const char *path, struct ss_trace_reader **out);
int ss_trace_open_mem(const void *buf, size_t len,
		      struct ss_trace_reader **out);
const struct ss_trace_meta *ss_trace_meta(const struct ss_trace_reader *r);
/* 1 = *rec filled; 0 = end of records (the trailer was read and checked,
 * or the file is partial); < 0 = error (see ss_trace_error); an error
 * sticks. */
int ss_trace_next(struct ss_trace_reader *r, struct ss_record *rec);
/* Byte offset of the next read. */
__u64 ss_trace_offset(const struct ss_trace_reader *r);
/* The version fields and flags as read (zeroed before the header is). */
const struct ss_file_header *ss_trace_header(const struct ss_trace_reader *r);
/* NULL until ss_trace_next() returned 0, and for a partial file. */
/* The earliest and latest time of an event in the file, from its trailer,
 * before reading it (a file written by this version, finished, and not a
 * pipe); false if not known so (then read it to know).  A trailer that
 * lied is an error when reading reaches it. */
bool ss_trace_span(const struct ss_trace_reader *r, __u64 *first, __u64 *last);
const struct ss_file_trailer *ss_trace_trailer(const struct ss_trace_reader *r);
/* After ss_trace_next() returned 0: NULL if the file was complete, else a
 * line saying it is partial and where it ends (no file name prefix). */
const char *ss_trace_partial(const struct ss_trace_reader *r);
/* The one-line message ("" if none), without the file name prefix. */
const char *ss_trace_error(const struct ss_trace_reader *r);
void ss_trace_close(struct ss_trace_reader *r);

/* "notify", "sched_switch", ...; NULL for types this build doesn't know
 * (the record schema's names: schema.c). */
const char *ss_type_name(__u32 type);

#endif /* STALLSCOPE_TRACE_H */
