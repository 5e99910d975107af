/* SPDX-License-Identifier: MIT */
/*
 * Where an unmodified Tokio binary can be watched (docs/tokio.md): the
 * file offsets of every monomorphization of Tokio's task entry points,
 * from its symbol tables (.symtab, .dynsym; a stripped file's from its
 * separate debug file, as elfutils finds it by build id or debuglink), in
 * legacy (`_ZN...17h<hash>E`) or v0 (`_R...`) Rust mangling.
 *
 *   raw::poll       tokio::runtime::task::raw::poll — a task is about to be
 *                   polled (first argument: the task's header)
 *   raw::schedule   tokio::runtime::task::raw::schedule — a waker made a
 *                   task runnable (first argument: its header)
 *   schedule_task   <multi_thread::handle::Handle>::schedule_task — every
 *                   task made runnable on the multi-thread scheduler, woken
 *                   or spawned (second argument: the header; third:
 *                   is_yield)
 *
 * One symbol per monomorphization (a future type and a scheduler): they
 * all count.  Owns: recognising the names.  Does not own: attaching
 * (the recorder), what the events mean (the analyzer).
 *
 * Reads untrusted files: a truncated or corrupt ELF gets -errno and a
 * message, never a crash (tests/fuzz/fuzz_tokio_syms.c).
 */
#ifndef STALLSCOPE_TOKIO_SYMS_H
#define STALLSCOPE_TOKIO_SYMS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

enum ss_tokio_fn {
	SS_TOKIO_RAW_POLL = 0,
	SS_TOKIO_RAW_SCHEDULE,
	SS_TOKIO_SCHEDULE_TASK,
	SS_TOKIO_NFNS
};

struct ss_tokio_site {
	__u64 offset;		/* file offset: where the uprobe goes */
	__u64 addr;		/* the symbol's address */
};

struct ss_tokio_syms {
	struct ss_tokio_site *sites[SS_TOKIO_NFNS];	/* malloc'd, by address */
	unsigned n[SS_TOKIO_NFNS];
	bool has_symtab;	/* a .symtab (not stripped) */
	bool debug_file;	/* stripped, but a separate debug file had it */
	unsigned tokio_symbols;	/* functions of the tokio crate seen at all */
	bool v0;		/* some tokio symbol is v0-mangled */
	/* From the read-only data, stripped or not: Tokio's panic locations
	 * name its source, ".../tokio-1.24.2/src/..." (0.0.0: not found),
	 * and its default worker thread name. */
	unsigned version[3];
	bool worker_name;	/* "tokio-runtime-worker" */
	char error[160];	/* when a read failed: what, one lowercase line */
};

/* Which entry point a mangled symbol name is (SS_TOKIO_NFNS: none of
 * them); *tokio: whether it is a function of the tokio crate at all. */
enum ss_tokio_fn ss_tokio_classify(const char *mangled, bool *tokio);

/* Whether s (len bytes) names Tokio's source as "tokio-X.Y.Z/src/": the
 * first such version into version[3]. */
bool ss_tokio_version_in(const char *s, size_t len, unsigned version[3]);
/* The binary is Tokio's, as far as its symbols or its data tell. */
bool ss_tokio_seen(const struct ss_tokio_syms *s);

/* Reads the ELF file at path (or an image of len bytes).  0, or -errno
 * with error set (as elf_file.h says).  Free with ss_tokio_syms_free()
 * either way. */
int ss_tokio_syms_read(const char *path, struct ss_tokio_syms *s);
int ss_tokio_syms_read_mem(const void *buf, size_t len, struct ss_tokio_syms *s);
void ss_tokio_syms_free(struct ss_tokio_syms *s);

const char *ss_tokio_fn_name(enum ss_tokio_fn f);

#endif
