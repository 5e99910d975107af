/* SPDX-License-Identifier: MIT */
/* Tokio's task entry points in a binary's symbol tables (tokio_syms.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <elfutils/libdwfl.h>

#include "elf_file.h"
#include "tokio_syms.h"

#define MAX_COMPS 24
#define MAX_IDENT 4096

/* A symbol's leading path, one identifier per component. */
struct path {
	const char *id[MAX_COMPS];
	size_t len[MAX_COMPS];
	unsigned n;
	char ns;		/* v0: the outermost namespace ('v' a function) */
};

static bool push(struct path *p, const char *id, size_t len)
{
	if (p->n == MAX_COMPS)
		return false;
	p->id[p->n] = id;
	p->len[p->n++] = len;
	return true;
}

static bool is(const struct path *p, unsigned i, const char *want)
{
	return i < p->n && p->len[i] == strlen(want) && !memcmp(p->id[i], want, p->len[i]);
}

/* <decimal length> then that many bytes (which must be there). */
static bool ident(const char **s, bool v0, struct path *p)
{
	size_t len = 0;

	if (v0 && **s == 'u')		/* punycode: compared as bytes */
		(*s)++;
	if (!isdigit((unsigned char)**s))
		return false;
	while (isdigit((unsigned char)**s)) {
		len = len * 10 + (size_t)(**s - '0');
		if (len > MAX_IDENT)
			return false;
		(*s)++;
	}
	if (v0 && **s == '_')		/* separates a length from an ident starting with a digit or _ */
		(*s)++;
	if (strnlen(*s, len) < len || !push(p, *s, len))
		return false;
	*s += len;
	return true;
}

/* Legacy: _ZN <ident>... E, the last ident the hash h<16 hex>, dropped. */
static bool legacy_path(const char *s, struct path *p)
{
	if (strncmp(s, "_ZN", 3))
		return false;
	for (s += 3; *s != 'E';)
		if (!ident(&s, false, p))
			return false;
	if (p->n >= 2 && p->len[p->n - 1] == 17 && p->id[p->n - 1][0] == 'h')
		p->n--;
	return p->n > 0;
}

/* v0: s<base62>_, optional. */
static void disambiguator(const char **s)
{
	if (**s != 's')
		return;
	for ((*s)++; isalnum((unsigned char)**s); (*s)++)
		;
	if (**s == '_')
		(*s)++;
}

/* v0: C<crate> or N<namespace><path><ident>; anything else (impls,
 * back-references, ...) is not a path this reader follows. */
static bool v0_path_at(const char **s, struct path *p, int depth)
{
	char ns;

	if (depth > MAX_COMPS)
		return false;
	switch (**s) {
	case 'C':
		(*s)++;
		disambiguator(s);
		p->ns = 0;
		return ident(s, true, p);
	case 'N':
		ns = (*s)[1];
		if (!isalpha((unsigned char)ns))
			return false;
		*s += 2;
		if (!v0_path_at(s, p, depth + 1))
			return false;
		disambiguator(s);
		if (!ident(s, true, p))
			return false;
		p->ns = ns;
		return true;
	default:
		return false;
	}
}

/* v0: _R [version] [I] <path> ...: the path (an instantiation's generic
 * arguments, after it, are not read). */
static bool v0_path(const char *s, struct path *p)
{
	if (strncmp(s, "_R", 2))
		return false;
	for (s += 2; isdigit((unsigned char)*s); s++)
		;
	if (*s == 'I')
		s++;
	return v0_path_at(&s, p, 0);
}

static bool raw_fn(const struct path *p, bool v0, const char *name)
{
	return p->n == 5 && is(p, 0, "tokio") && is(p, 1, "runtime") && is(p, 2, "task") &&
	       is(p, 3, "raw") && is(p, 4, name) && (!v0 || p->ns == 'v');
}

/* <impl multi_thread::handle::Handle>::schedule_task: an impl path,
 * which v0 writes as M...; recognised by its parts in either mangling. */
static bool schedule_task(const char *s, const struct path *legacy)
{
	if (legacy)
		return legacy->n >= 3 && is(legacy, 0, "tokio") &&
		       is(legacy, legacy->n - 1, "schedule_task") &&
		       strstr(s, "12multi_thread") != NULL;
	if (strncmp(s, "_R", 2) || !strstr(s, "_5tokio") || !strstr(s, "12multi_thread"))
		return false;
	const char *end = strchr(s, '.');	/* .llvm.NNN */
	size_t n = end ? (size_t)(end - s) : strlen(s);
	return n > 15 && !memcmp(s + n - 15, "13schedule_task", 15);
}

enum ss_tokio_fn ss_tokio_classify(const char *s, bool *tokio)
{
	struct path lp = { .n = 0 }, vp = { .n = 0 };
	bool legacy = legacy_path(s, &lp), v0 = !legacy && v0_path(s, &vp);

	*tokio = (legacy && is(&lp, 0, "tokio")) || (v0 && is(&vp, 0, "tokio"));
	if (schedule_task(s, legacy ? &lp : NULL)) {
		*tokio = true;
		return SS_TOKIO_SCHEDULE_TASK;
	}
	if (!*tokio)
		return SS_TOKIO_NFNS;
	if (raw_fn(legacy ? &lp : &vp, v0, "poll"))
		return SS_TOKIO_RAW_POLL;
	if (raw_fn(legacy ? &lp : &vp, v0, "schedule"))
		return SS_TOKIO_RAW_SCHEDULE;
	return SS_TOKIO_NFNS;
}

const char *ss_tokio_fn_name(enum ss_tokio_fn f)
{
	static const char *const names[SS_TOKIO_NFNS] = {
		[SS_TOKIO_RAW_POLL] = "raw::poll",
		[SS_TOKIO_RAW_SCHEDULE] = "raw::schedule",
		[SS_TOKIO_SCHEDULE_TASK] = "schedule_task",
	};
	return (unsigned)f < SS_TOKIO_NFNS ? names[f] : "?";
}

/* ---- reading a file ------------------------------------------------------------- */

static int fail(struct ss_tokio_syms *s, int err, const char *msg)
{
	snprintf(s->error, sizeof(s->error), "%s", msg);
	return err;
}

static int add(struct ss_tokio_syms *s, enum ss_tokio_fn f, __u64 addr, __u64 off)
{
	unsigned n = s->n[f];

	if ((n & (n - 1)) == 0) {		/* 0, 1, 2, 4, ...: grow */
		struct ss_tokio_site *g = realloc(s->sites[f], (n ? 2 * n : 1) * sizeof(*g));

		if (!g)
			return fail(s, -ENOMEM, "out of memory");
		s->sites[f] = g;
	}
	s->sites[f][n] = (struct ss_tokio_site){ .offset = off, .addr = addr };
	s->n[f] = n + 1;
	return 0;
}

/* One symbol of the file e (its address a vaddr of e, wherever the
 * symbol table came from). */
static int symbol(struct ss_elf_file *e, const GElf_Sym *sym, const char *name,
		  struct ss_tokio_syms *s)
{
	enum ss_tokio_fn f;
	bool tokio;
	__u64 off;

	if (GELF_ST_TYPE(sym->st_info) != STT_FUNC || sym->st_shndx == SHN_UNDEF ||
	    !sym->st_value || !name)
		return 0;
	f = ss_tokio_classify(name, &tokio);
	if (tokio) {
		s->tokio_symbols++;
		s->v0 |= name[1] == 'R';
	}
	if (f == SS_TOKIO_NFNS || !ss_elf_offset(e, sym->st_value, true, &off))
		return 0;
	return add(s, f, sym->st_value, off);
}

static int table_read(struct ss_elf_file *e, Elf_Scn *scn, const GElf_Shdr *sh,
		      struct ss_tokio_syms *s)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;

	if (!data || !sh->sh_entsize)
		return fail(s, -EINVAL, "cannot read a symbol table");
	count = data->d_size / sh->sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		int err;

		if (!gelf_getsym(data, (int)i, &sym))
			return fail(s, -EINVAL, "cannot read a symbol");
		if ((err = symbol(e, &sym, elf_strptr(e->elf, sh->sh_link, sym.st_name), s)))
			return err;
	}
	return 0;
}

/* A stripped file's symbols from its separate debug file, as elfutils
 * finds it (by build id under /usr/lib/debug/.build-id/, or by
 * .gnu_debuglink next to the file, in .debug/ or under /usr/lib/debug). */
static int debug_file_read(const char *path, struct ss_elf_file *e, struct ss_tokio_syms *s)
{
	static const Dwfl_Callbacks cb = {
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
	};
	Dwfl *d = dwfl_begin(&cb);
	Dwfl_Module *m;
	int n, err = 0;

	if (!d)
		return 0;
	dwfl_report_begin(d);
	m = dwfl_report_elf(d, path, path, -1, 0, false);	/* addresses as in the file */
	dwfl_report_end(d, NULL, NULL);
	if (m && (n = dwfl_module_getsymtab(m)) > 0) {
		GElf_Addr bias;
		const char *debug = NULL;

		/* Only if the table is the debug file's (not .dynsym). */
		dwfl_module_getdwarf(m, &bias);
		dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, &debug);
		for (int i = 1; debug && i < n && !err; i++) {
			GElf_Sym sym;
			GElf_Addr addr;
			const char *name = dwfl_module_getsym_info(m, i, &sym, &addr, NULL, NULL, NULL);

			sym.st_value = addr;
			err = symbol(e, &sym, name, s);
		}
		s->debug_file = debug != NULL;
	}
	dwfl_end(d);
	return err;
}

/* A decimal number at s[*i] (< len), at most 5 digits. */
static bool decimal(const char *s, size_t len, size_t *i, unsigned *v)
{
	size_t start = *i;

	for (*v = 0; *i < len && *i - start < 5 && isdigit((unsigned char)s[*i]); (*i)++)
		*v = *v * 10 + (unsigned)(s[*i] - '0');
	return *i > start && (*i == len || !isdigit((unsigned char)s[*i]));
}

bool ss_tokio_version_in(const char *s, size_t len, unsigned version[3])
{
	static const char key[] = "tokio-";
	const char *p = s, *end = s + len;

	while ((p = memmem(p, (size_t)(end - p), key, sizeof(key) - 1))) {
		size_t i = (size_t)(p - s) + sizeof(key) - 1;
		unsigned v[3];
		bool ok = true;

		for (int k = 0; k < 3 && ok; k++)
			ok = decimal(s, len, &i, &v[k]) && i < len && s[i++] == (k < 2 ? '.' : '/');
		if (ok && len - i >= 4 && !memcmp(s + i, "src/", 4)) {
			memcpy(version, v, sizeof(v));
			return true;
		}
		p++;
	}
	return false;
}

bool ss_tokio_seen(const struct ss_tokio_syms *s)
{
	return s->tokio_symbols || s->worker_name || s->version[0] || s->version[1];
}

/* Read-only data (panic locations, string literals): Tokio's version and
 * its worker thread name. */
static int data_read(Elf_Scn *scn, struct ss_tokio_syms *s)
{
	static const char name[] = "tokio-runtime-worker";
	Elf_Data *data = NULL;

	while ((data = elf_getdata(scn, data))) {
		if (!data->d_buf || !data->d_size)
			continue;
		if (!s->version[0] && !s->version[1])
			ss_tokio_version_in(data->d_buf, data->d_size, s->version);
		s->worker_name |= memmem(data->d_buf, data->d_size, name, sizeof(name) - 1) != NULL;
	}
	return 0;
}

static int by_addr(const void *a, const void *b)
{
	const struct ss_tokio_site *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int read_syms(struct ss_elf_file *e, int err, struct ss_tokio_syms *s,
		     const char *path)
{
	Elf_Scn *scn = NULL;

	while (!err && (scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh)) {
			err = fail(s, -EINVAL, "cannot read a section header");
			break;
		}
		if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_ALLOC) &&
		    !(sh.sh_flags & (SHF_EXECINSTR | SHF_WRITE))) {
			err = data_read(scn, s);
			continue;
		}
		if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
			continue;
		s->has_symtab |= sh.sh_type == SHT_SYMTAB;
		err = table_read(e, scn, &sh, s);
	}
	if (!err && path && !s->has_symtab && ss_tokio_seen(s))
		err = debug_file_read(path, e, s);
	/* By address, each once (.symtab and .dynsym may both list one). */
	for (unsigned f = 0; f < SS_TOKIO_NFNS && !err; f++) {
		unsigned n = 0;

		if (s->n[f])
			qsort(s->sites[f], s->n[f], sizeof(*s->sites[f]), by_addr);
		for (unsigned i = 0; i < s->n[f]; i++)
			if (!n || s->sites[f][i].addr != s->sites[f][n - 1].addr)
				s->sites[f][n++] = s->sites[f][i];
		s->n[f] = n;
	}
	ss_elf_close(e);
	return err;
}

int ss_tokio_syms_read(const char *path, struct ss_tokio_syms *s)
{
	struct ss_elf_file e;

	memset(s, 0, sizeof(*s));
	return read_syms(&e, ss_elf_open(&e, path, s->error, sizeof(s->error)), s, path);
}

int ss_tokio_syms_read_mem(const void *buf, size_t len, struct ss_tokio_syms *s)
{
	struct ss_elf_file e;

	memset(s, 0, sizeof(*s));
	return read_syms(&e, ss_elf_open_mem(&e, buf, len, s->error, sizeof(s->error)), s, NULL);
}

void ss_tokio_syms_free(struct ss_tokio_syms *s)
{
	for (unsigned f = 0; f < SS_TOKIO_NFNS; f++) {
		free(s->sites[f]);
		s->sites[f] = NULL;
		s->n[f] = 0;
	}
}
