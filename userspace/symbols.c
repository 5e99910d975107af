/* SPDX-License-Identifier: MIT */
/*
 * Task names: the spawn probe carries each task's poll-function address;
 * the trace header carries the target's executable mappings with build
 * ids; elfutils' libdwfl turns the two into a symbol name, so reports say
 * `task 17 (handle_request)`.
 *
 * Owns: reporting each mapped file to libdwfl at its load bias, and
 * refusing a file whose build id no longer matches the one recorded (the
 * binary was rebuilt since: its symbols would lie).  Does not own: which
 * addresses get named (analyze.c asks only for tasks it reports).
 */
#define _GNU_SOURCE
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "symbols.h"

struct ss_symbols {
	Dwfl *dwfl;
};

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

struct ss_symbols *ss_symbols_new(const struct ss_trace_meta *m)
{
	struct ss_symbols *s;
	unsigned reported = 0;

	if (!m || !m->nmappings)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->dwfl = dwfl_begin(&callbacks);
	if (!s->dwfl) {
		free(s);
		return NULL;
	}
	dwfl_report_begin(s->dwfl);
	for (unsigned i = 0; i < m->nmappings; i++) {
		const struct ss_mapping *mp = &m->mappings[i];
		__u8 id[20];
		__u8 idlen = 0;

		/* One module per file: its first executable mapping. */
		bool seen = false;
		for (unsigned k = 0; k < i && !seen; k++)
			seen = !strcmp(m->mappings[k].path, mp->path);
		if (seen)
			continue;
		if (mp->build_id_len &&
		    (ss_elf_build_id(mp->path, id, &idlen) || idlen != mp->build_id_len ||
		     memcmp(id, mp->build_id, idlen)))
			continue;	/* gone or rebuilt since the recording */
		/* The load bias: where file offset 0 landed (text segments
		 * have p_vaddr == p_offset in what gcc and ld produce). */
		if (dwfl_report_elf(s->dwfl, mp->path, mp->path, -1,
				    mp->start - mp->offset, false))
			reported++;
	}
	dwfl_report_end(s->dwfl, NULL, NULL);
	if (!reported) {
		ss_symbols_free(s);
		return NULL;
	}
	return s;
}

int ss_symbols_name(struct ss_symbols *s, __u64 addr, char *buf, size_t len)
{
	Dwfl_Module *mod;
	const char *name;

	buf[0] = '\0';
	if (!s || !(mod = dwfl_addrmodule(s->dwfl, (Dwarf_Addr)addr)))
		return -ENOENT;
	name = dwfl_module_addrname(mod, (GElf_Addr)addr);
	if (!name)
		return -ENOENT;
	snprintf(buf, len, "%s", name);
	return 0;
}

void ss_symbols_free(struct ss_symbols *s)
{
	if (!s)
		return;
	dwfl_end(s->dwfl);
	free(s);
}
