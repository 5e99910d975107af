/* SPDX-License-Identifier: MIT */
/*
 * The trace reader (trace_read.c has the whole): the file header and its
 * TLVs, checked before anything is taken from them (each length against
 * the bytes that remain; the header read whole only after header_len was
 * checked).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_read_int.h"

static const char *tlv_name(__u16 tag)
{
	static const char *const names[] = {
		[SS_TLV_HOST] = "HOST",
		[SS_TLV_KERNEL] = "KERNEL",
		[SS_TLV_CLOCK] = "CLOCK",
		[SS_TLV_START_MONO_NS] = "START_MONO_NS",
		[SS_TLV_START_REALTIME_NS] = "START_REALTIME_NS",
		[SS_TLV_PID] = "PID",
		[SS_TLV_COMM] = "COMM",
		[SS_TLV_CMDLINE] = "CMDLINE",
		[SS_TLV_WORKERS] = "WORKERS",
		[SS_TLV_MAPPING] = "MAPPING",
		[SS_TLV_RECORDER] = "RECORDER",
		[SS_TLV_RING_BYTES] = "RING_BYTES",
	};

	if (tag < sizeof(names) / sizeof(names[0]) && names[tag])
		return names[tag];
	return "unknown";
}

static void copy_str(char *dst, size_t size, const unsigned char *v, __u32 len)
{
	size_t n = len < size - 1 ? len : size - 1;

	memcpy(dst, v, n);
	dst[n] = '\0';
}

static int parse_cmdline(struct ss_trace_reader *r, __u64 at,
			 const unsigned char *v, __u32 len)
{
	unsigned argc = 0;
	char *copy;
	char **argv;

	if (len && v[len - 1] != '\0')
		return rd_fail(r, -EBADMSG,
			    "corrupt at offset %llu: CMDLINE does not end with a NUL",
			    (unsigned long long)at);
	for (__u32 i = 0; i < len; i++)
		argc += v[i] == '\0';
	copy = malloc(len ? len : 1);
	argv = calloc(argc + 1, sizeof(*argv));
	if (!copy || !argv) {
		free(copy);
		free(argv);
		return rd_fail(r, -ENOMEM, "out of memory reading the header");
	}
	memcpy(copy, v, len);
	for (__u32 i = 0, k = 0; k < argc; k++) {
		argv[k] = copy + i;
		i += (__u32)strlen(copy + i) + 1;
	}
	/* A repeated CMDLINE replaces the earlier one. */
	free(r->cmdline);
	free(r->meta.argv);
	r->cmdline = copy;
	r->meta.argv = argv;
	r->meta.argc = argc;
	return 0;
}

static int parse_mapping(struct ss_trace_reader *r, __u64 at,
			 const unsigned char *v, __u32 len)
{
	struct ss_mapping *m = &r->meta.mappings[r->meta.nmappings];
	struct ss_tlv_mapping fixed;
	const unsigned char *path = v + sizeof(fixed), *nul;
	size_t plen;

	if (len < sizeof(fixed) + 1)
		return rd_fail(r, -EBADMSG,
			    "corrupt at offset %llu: MAPPING length %u, at least %zu expected",
			    (unsigned long long)at, len, sizeof(fixed) + 1);
	memcpy(&fixed, v, sizeof(fixed));
	if (fixed.build_id_len > sizeof(fixed.build_id))
		return rd_fail(r, -EBADMSG,
			    "corrupt at offset %llu: mapping build id of %u bytes (at most 20)",
			    (unsigned long long)(at + 8 + 24), fixed.build_id_len);
	nul = memchr(path, '\0', len - sizeof(fixed));
	if (!nul)
		return rd_fail(r, -EBADMSG,
			    "corrupt at offset %llu: mapping path is not NUL-terminated",
			    (unsigned long long)(at + 8 + sizeof(fixed)));
	plen = (size_t)(nul - path);
	if (plen >= sizeof(m->path))
		return rd_fail(r, -EBADMSG,
			    "corrupt at offset %llu: mapping path of %zu bytes (at most %zu)",
			    (unsigned long long)(at + 8 + sizeof(fixed)), plen,
			    sizeof(m->path) - 1);
	m->start = fixed.start;
	m->end = fixed.end;
	m->offset = fixed.file_offset;
	m->build_id_len = fixed.build_id_len;
	memcpy(m->build_id, fixed.build_id, sizeof(m->build_id));
	memcpy(m->path, path, plen + 1);
	r->meta.nmappings++;
	return 0;
}

static int parse_scalar(struct ss_trace_reader *r, __u64 at, __u16 tag,
			const unsigned char *v, __u32 len, void *dst, __u32 size)
{
	if (len != size)
		return rd_fail(r, -EBADMSG,
			    "corrupt at offset %llu: %s has length %u, expected %u",
			    (unsigned long long)at, tlv_name(tag), len, size);
	memcpy(dst, v, size);
	return 0;
}

static int parse_tlv(struct ss_trace_reader *r, __u64 at, __u16 tag,
		     const unsigned char *v, __u32 len)
{
#define STR(TAG, F) { TAG, offsetof(struct ss_trace_meta, F), sizeof(((struct ss_trace_meta *)0)->F) }
	static const struct { __u16 tag; size_t off, size; } strs[] = {
		STR(SS_TLV_HOST, host), STR(SS_TLV_KERNEL, kernel),
		STR(SS_TLV_CLOCK, clock), STR(SS_TLV_COMM, comm),
		STR(SS_TLV_RECORDER, recorder),
	};
#undef STR
	struct ss_trace_meta *m = &r->meta;

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strs[i].tag == tag) {
			copy_str((char *)m + strs[i].off, strs[i].size, v, len);
			return 0;
		}
	}
	switch (tag) {
	case SS_TLV_START_MONO_NS:
		return parse_scalar(r, at, tag, v, len, &m->start_mono_ns, 8);
	case SS_TLV_START_REALTIME_NS:
		return parse_scalar(r, at, tag, v, len, &m->start_realtime_ns, 8);
	case SS_TLV_RING_BYTES:
		return parse_scalar(r, at, tag, v, len, &m->ring_bytes, 8);
	case SS_TLV_PID:
		return parse_scalar(r, at, tag, v, len, &m->pid, 4);
	case SS_TLV_WORKERS:
		return parse_scalar(r, at, tag, v, len, &m->workers, 4);
	case SS_TLV_CMDLINE:
		return parse_cmdline(r, at, v, len);
	case SS_TLV_MAPPING:
		return parse_mapping(r, at, v, len);
	default:
		return 0;	/* a newer writer's: skipped */
	}
}

/*
 * The TLVs in body (the header_len - 32 bytes after the file header), in
 * two passes: the first checks every length and counts the mappings, the
 * second fills the metadata.
 */
static int parse_tlvs(struct ss_trace_reader *r, const unsigned char *body,
		      size_t n)
{
	const __u64 base = sizeof(struct ss_file_header);
	const unsigned long long hlen = base + n;
	unsigned nmappings = 0;
	struct ss_tlv t;
	size_t pos;

	for (pos = 0; pos < n; pos += sizeof(t) + ALIGN8(t.len)) {
		/* pos and n are multiples of 8: a TLV header always fits. */
		memcpy(&t, body + pos, sizeof(t));
		if (t.len > n - pos - sizeof(t))
			return rd_fail(r, -EBADMSG,
				    "corrupt at offset %llu: TLV length %u runs past the header end (%llu)",
				    (unsigned long long)(base + pos), t.len, hlen);
		nmappings += t.tag == SS_TLV_MAPPING;
	}
	if (nmappings) {
		r->meta.mappings = calloc(nmappings, sizeof(*r->meta.mappings));
		if (!r->meta.mappings)
			return rd_fail(r, -ENOMEM, "out of memory reading the header");
	}
	for (pos = 0; pos < n; pos += sizeof(t) + ALIGN8(t.len)) {
		memcpy(&t, body + pos, sizeof(t));
		if (parse_tlv(r, base + pos, t.tag, body + pos + sizeof(t), t.len))
			return r->err;
	}
	return 0;
}

int rd_read_header(struct ss_trace_reader *r)
{
	struct ss_file_header h;
	unsigned char *body;
	size_t n;
	ssize_t got = rd_read(r, &h, sizeof(h));
	int err;

	if (got < 0)
		return rd_fail_io(r, (int)got);
	if (got == 0)
		return rd_fail(r, -ENODATA, "truncated at offset 0: the file is empty");
	if (memcmp(h.magic, SS_FILE_MAGIC, got < 8 ? (size_t)got : 8))
		return rd_fail(r, -EBADMSG,
			    "not a stallscope trace (bad magic at offset 0)");
	if (got < (ssize_t)sizeof(h))
		return rd_fail(r, -ENODATA,
			    "truncated at offset %zd: file header cut short (32 bytes expected)",
			    got);
	if (h.version == 0)
		return rd_fail(r, -EBADMSG, "corrupt at offset 8: format version 0");
	if (h.min_reader == 0 || h.min_reader > h.version)
		return rd_fail(r, -EBADMSG,
			    "corrupt at offset 10: min_reader %u with format version %u",
			    h.min_reader, h.version);
	r->hdr = h;
	if (h.min_reader > SS_READER_VERSION)
		return rd_fail(r, -EPROTONOSUPPORT,
			    "needs stallscope >= %u (file format %u, this reader reads up to %u)",
			    h.min_reader, h.version, SS_READER_VERSION);
	if (h.header_len < sizeof(h))
		return rd_fail(r, -EBADMSG,
			    "corrupt at offset 12: header_len %u is shorter than the 32-byte file header",
			    h.header_len);
	if (h.header_len % 8)
		return rd_fail(r, -EBADMSG,
			    "corrupt at offset 12: header_len %u is not a multiple of 8",
			    h.header_len);
	if (h.header_len > SS_HEADER_MAX)
		return rd_fail(r, -EBADMSG,
			    "corrupt at offset 12: header_len %u is over the 1 MiB limit",
			    h.header_len);
	if (h.record_size != RECORD_BYTES)
		return rd_fail(r, -EBADMSG,
			    "corrupt at offset 16: record_size %u, expected %zu",
			    h.record_size, RECORD_BYTES);
	if (r->size_known && r->size < h.header_len)
		return rd_fail(r, -ENODATA,
			    "truncated at offset %llu: the header (header_len %u) runs past the end of the file",
			    (unsigned long long)r->size, h.header_len);

	r->meta.flags = h.flags;
	n = h.header_len - sizeof(h);
	body = malloc(n ? n : 1);
	if (!body)
		return rd_fail(r, -ENOMEM, "out of memory reading the header");
	got = rd_read(r, body, n);
	if (got < 0)
		err = rd_fail_io(r, (int)got);
	else if ((size_t)got < n)
		err = rd_fail(r, -ENODATA,
			   "truncated at offset %llu: the header (header_len %u) runs past the end of the file",
			   (unsigned long long)r->off, h.header_len);
	else
		err = parse_tlvs(r, body, n);
	free(body);
	return err;
}
