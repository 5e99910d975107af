/* SPDX-License-Identifier: MIT */
/*
 * Task names: the spawn probe carries each task's poll-function address;
 * the trace header carries the target's executable mappings with build
 * ids; elfutils' libdwfl turns the two into a symbol name, so reports say
 * `task 17 (handle_request)`.  A Tokio task's is the future it polls:
 * Tokio's raw::poll::<T, S> is instantiated per future type T, and its
 * DWARF (even line-tables-only builds name functions with their generic
 * arguments) or a v0-mangled symbol spell T out (docs/tokio.md).
 *
 * Owns: reporting each mapped file to libdwfl at its load bias, and
 * refusing a file whose build id no longer matches the one recorded (the
 * binary was rebuilt since: its symbols would lie).  Does not own: which
 * addresses get named (analyze.c asks only for tasks it reports).
 */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <libiberty/demangle.h>
#include <stdbool.h>
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

#define RAW_POLL "tokio::runtime::task::raw::poll"
#define GEN_FUTURE "core::future::from_generator::GenFuture<"

/* The first generic argument of the name at `open` ('<'), into buf (an
 * async block's GenFuture<...> unwrapped).  False if it is not there. */
static bool first_arg(const char *open, char *buf, size_t len)
{
	const char *p = open + 1, *start = p;
	int depth = 0;

	for (; *p; p++) {
		if (*p == '<')
			depth++;
		else if (*p == '>' && depth-- == 0)
			break;
		else if (*p == ',' && !depth)
			break;
	}
	if (!*p || p == start)
		return false;
	if ((size_t)(p - start) > strlen(GEN_FUTURE) && !strncmp(start, GEN_FUTURE, strlen(GEN_FUTURE)) &&
	    p[-1] == '>') {
		start += strlen(GEN_FUTURE);
		p--;
	}
	snprintf(buf, len, "%.*s", (int)(p - start), start);
	return true;
}

struct func_at {
	Dwarf_Addr pc;
	const char *name;
};

static int func_at(Dwarf_Die *die, void *arg)
{
	struct func_at *q = arg;
	Dwarf_Attribute at;

	if (dwarf_haspc(die, q->pc) != 1)
		return DWARF_CB_OK;
	q->name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &at));
	return DWARF_CB_ABORT;
}

/* Tokio's raw::poll at addr: the future T from the name of its DWARF
 * subprogram, "poll<T, S>" (rustc gives even line-tables-only builds
 * those, within namespaces: dwarf_getfuncs finds them there). */
static bool dwarf_future(Dwfl_Module *mod, __u64 addr, char *buf, size_t len)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, (Dwarf_Addr)addr, &bias);
	struct func_at q = { .pc = (Dwarf_Addr)addr - bias };

	if (!cu)
		return false;
	dwarf_getfuncs(cu, func_at, &q, 0);
	return q.name && !strncmp(q.name, "poll<", 5) && first_arg(q.name + 4, buf, len);
}

int ss_symbols_name(struct ss_symbols *s, __u64 addr, char *buf, size_t len)
{
	Dwfl_Module *mod;
	const char *name;
	char *rust = NULL;

	buf[0] = '\0';
	if (!s || !(mod = dwfl_addrmodule(s->dwfl, (Dwarf_Addr)addr)))
		return -ENOENT;
	name = dwfl_module_addrname(mod, (GElf_Addr)addr);
	if (!name)
		return -ENOENT;
	if (!strncmp(name, "_ZN", 3) || !strncmp(name, "_R", 2))
		rust = cplus_demangle(name, DMGL_RUST | DMGL_PARAMS | DMGL_ANSI);
	if (rust && !strncmp(rust, RAW_POLL, strlen(RAW_POLL))) {
		/* A Tokio task: the future, from the v0 name's generic
		 * arguments or the DWARF; none if neither says. */
		const char *open = rust + strlen(RAW_POLL);

		if (strncmp(open, "::<", 3) || !first_arg(open + 2, buf, len))
			dwarf_future(mod, addr, buf, len);
	} else {
		snprintf(buf, len, "%s", rust ? rust : name);
	}
	free(rust);
	return buf[0] ? 0 : -ENOENT;
}

void ss_symbols_free(struct ss_symbols *s)
{
	if (!s)
		return;
	dwfl_end(s->dwfl);
	free(s);
}
