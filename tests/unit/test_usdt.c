/* SPDX-License-Identifier: MIT */
/*
 * USDT notes and argument specs (userspace/usdt.c), against the
 * usdt-probes program (tests/tools/usdt_probes.c), whose probe sites carry
 * global labels: what the parser says is checked against what the file
 * says by other means — the symbol table and section headers read here
 * with libelf, and `readelf -n`.  Then the argument syntax as a table,
 * including what must be refused, and files cut short or corrupted: an
 * error and a message, never a crash (tests/fuzz/fuzz_usdt_notes.c covers
 * arbitrary bytes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "userspace/usdt.h"

/* ---- helpers ---- */

/* A file next to this test binary (BUILD/tests/NAME), or further up. */

static char *probes_path(void)
{
	return test_built("usdt-probes");
}

struct symbol {
	__u64 addr;	/* st_value */
	__u64 offset;	/* in the file: through its section's header */
};

/* A symbol's address and file offset, from .symtab and the section it
 * is defined in: a path independent of the notes and the segments. */
static struct symbol symbol_find(const char *path, const char *name)
{
	struct symbol sym = { 0 };
	Elf_Scn *scn = NULL;
	bool found = false;
	Elf *e;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE ||
	    !(e = elf_begin(fd, ELF_C_READ, NULL)))
		FAILF("%s: cannot open as ELF", path);
	while (!found && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			GElf_Shdr in;
			const char *n;

			if (!gelf_getsym(d, (int)i, &s) ||
			    !(n = elf_strptr(e, sh.sh_link, s.st_name)) || strcmp(n, name))
				continue;
			if (!gelf_getshdr(elf_getscn(e, s.st_shndx), &in))
				FAILF("%s: no section for %s", path, name);
			sym.addr = s.st_value;
			sym.offset = s.st_value - in.sh_addr + in.sh_offset;
			found = true;
			break;
		}
	}
	elf_end(e);
	close(fd);
	if (!found)
		FAILF("%s: no symbol %s", path, name);
	return sym;
}

static struct ss_usdt_notes read_ok(const char *path)
{
	struct ss_usdt_notes n;
	int err = ss_usdt_notes_read(path, &n);

	if (err)
		FAILF("reading %s: %d (%s)", path, err, n.error);
	return n;
}

static const struct ss_usdt_probe *probe_find(const struct ss_usdt_notes *n,
					      const char *provider, const char *name,
					      const char *args)
{
	for (unsigned i = 0; i < n->n; i++)
		if (!strcmp(n->probes[i].provider, provider) &&
		    !strcmp(n->probes[i].name, name) && !strcmp(n->probes[i].args, args))
			return &n->probes[i];
	FAILF("no probe %s:%s with args '%s'", provider, name, args);
}

/* The usdt-probes program's probes: label, provider, name, args. */
static const struct site {
	const char *label, *provider, *name, *args;
} sites[] = {
	{ "usdt_site_regs", "wsrt", "spawn", "-4@%eax 4@%edx -2@%si 1@%dil" },
	{ "usdt_site_regs_high", "wsrt", "spawn", "8@%r12 -4@%r9d 2@%r10w -1@%r11b" },
	{ "usdt_site_consts", "wsrt", "spawn", "-4@$-1 4@$4294967295 8@$-5 -1@$255" },
	{ "usdt_site_mem", "wsrt", "spawn",
	  "-4@8(%rbx) 8@(%rbx) -8@-8(%r12) 2@4(%rcx,%rax,2)" },
	{ "usdt_site_float", "wsrt", "timer_fire", "8f@%xmm0" },
	{ "usdt_site_none", "ss_test", "none", "" },
	{ "usdt_site_twelve", "ss_test", "twelve",
	  "1@$1 2@$2 4@$3 8@$4 -1@$5 -2@$6 -4@$7 -8@$8 8@%rax 8@%rbx 8@%rcx 8@%rdx" },
	{ "usdt_site_thirteen", "ss_test", "thirteen",
	  "1@$1 1@$2 1@$3 1@$4 1@$5 1@$6 1@$7 1@$8 1@$9 1@$10 1@$11 1@$12 1@$13" },
	{ "usdt_site_rip", "ss_test", "rip", "-4@counter(%rip)" },
	{ "usdt_site_sema", "wsrt", "task_cancel", "8@%rdi" },
};
#define N_SITES (sizeof(sites) / sizeof(sites[0]))

#define C(v, sz, sg) { .type = SS_USDT_ARG_CONST, .val = (__u64)(v), .size = sz, .is_signed = sg }
#define R(reg, sz, sg) { .type = SS_USDT_ARG_REG, .reg_off = SS_USDT_REG_##reg, .size = sz, .is_signed = sg }
#define M(off, reg, sz, sg) { .type = SS_USDT_ARG_REG_DEREF, .val = (__u64)(off), \
			      .reg_off = SS_USDT_REG_##reg, .size = sz, .is_signed = sg }
#define SIB(off, reg, idx, shift, sz, sg) { .type = SS_USDT_ARG_SIB, .val = (__u64)(off), \
	.reg_off = SS_USDT_REG_##reg, .idx_reg_off = SS_USDT_REG_##idx, \
	.scale_shift = shift, .size = sz, .is_signed = sg }

static void assert_arg(const char *what, unsigned i, const struct ss_usdt_arg *got,
		       const struct ss_usdt_arg *want)
{
	if (memcmp(got, want, sizeof(*got)))
		FAILF("%s arg %u: got type=%u val=0x%llx reg=%u idx=%u shift=%u size=%u signed=%u, "
		      "want type=%u val=0x%llx reg=%u idx=%u shift=%u size=%u signed=%u",
		      what, i, got->type, (unsigned long long)got->val, got->reg_off,
		      got->idx_reg_off, got->scale_shift, got->size, got->is_signed,
		      want->type, (unsigned long long)want->val, want->reg_off,
		      want->idx_reg_off, want->scale_shift, want->size, want->is_signed);
}

static void assert_spec(const char *what, const struct ss_usdt_spec *spec,
			const struct ss_usdt_arg *want, unsigned n)
{
	ASSERT_EQ(spec->nargs, n);
	ASSERT_EQ(spec->cookie, 0);
	ASSERT_EQ(spec->pad, 0);
	for (unsigned i = 0; i < SS_USDT_MAX_ARGS; i++) {
		struct ss_usdt_arg zero = { 0 };
		assert_arg(what, i, &spec->args[i], i < n ? &want[i] : &zero);
	}
}

/* ---- the notes of a real file ---- */

TEST(notes_sites_are_where_the_symbol_table_puts_their_labels)
{
	char *path = probes_path();
	struct ss_usdt_notes n = read_ok(path);
	int fd = open(path, O_RDONLY);

	ASSERT_EQ(n.n, N_SITES);
	for (size_t i = 0; i < N_SITES; i++) {
		const struct ss_usdt_probe *p = probe_find(&n, sites[i].provider,
							   sites[i].name, sites[i].args);
		struct symbol s = symbol_find(path, sites[i].label);
		unsigned char op = 0;

		if (p->pc != s.addr || p->offset != s.offset)
			FAILF("%s: pc 0x%llx offset 0x%llx, symbol table: 0x%llx 0x%llx",
			      sites[i].label, (unsigned long long)p->pc,
			      (unsigned long long)p->offset, (unsigned long long)s.addr,
			      (unsigned long long)s.offset);
		/* What a uprobe at that offset replaces: sys/sdt.h's nop. */
		ASSERT_EQ(pread(fd, &op, 1, (off_t)p->offset), 1);
		ASSERT_EQ(op, 0x90);
	}
	close(fd);
	ss_usdt_notes_free(&n);
	free(path);
}

TEST(notes_semaphore_is_the_file_offset_of_its_variable)
{
	char *path = probes_path();
	struct ss_usdt_notes n = read_ok(path);
	struct symbol s = symbol_find(path, "wsrt_task_cancel_semaphore");
	const struct ss_usdt_probe *p = probe_find(&n, "wsrt", "task_cancel", "8@%rdi");
	int fd = open(path, O_RDONLY);
	unsigned short v = 1;

	ASSERT_NE(p->ref_ctr_offset, 0);
	ASSERT_EQ(p->ref_ctr_offset, s.offset);
	/* The variable's initial value is there in the file. */
	ASSERT_EQ(pread(fd, &v, 2, (off_t)p->ref_ctr_offset), 2);
	ASSERT_EQ(v, 0);
	for (unsigned i = 0; i < n.n; i++)
		if (&n.probes[i] != p)
			ASSERT_EQ(n.probes[i].ref_ctr_offset, 0);
	close(fd);
	ss_usdt_notes_free(&n);
	free(path);
}

/* Provider, name, location and arguments as `readelf -n` prints them, in
 * note order. */
TEST(notes_agree_with_readelf)
{
	char *path = probes_path(), *cmd, line[512];
	struct ss_usdt_notes n = read_ok(path);
	unsigned k = 0;
	FILE *f;

	if (asprintf(&cmd, "readelf -n '%s'", path) < 0 || !(f = popen(cmd, "r")))
		FAILF("cannot run readelf");
	while (fgets(line, sizeof(line), f)) {
		char *v = line + strspn(line, " ");
		unsigned long long loc, base, sema;

		v[strcspn(v, "\n")] = '\0';
		if (!strncmp(v, "Provider: ", 10)) {
			if (k >= n.n)
				FAILF("readelf shows more than %u probes", n.n);
			ASSERT_STREQ(n.probes[k].provider, v + 10);
		} else if (!strncmp(v, "Name: ", 6)) {
			ASSERT_STREQ(n.probes[k].name, v + 6);
		} else if (sscanf(v, "Location: %llx, Base: %llx, Semaphore: %llx",
				  &loc, &base, &sema) == 3) {
			ASSERT_EQ(n.probes[k].pc, loc);	/* not prelinked */
			ASSERT_EQ(!!n.probes[k].ref_ctr_offset, !!sema);
		} else if (!strncmp(v, "Arguments:", 10)) {
			ASSERT_STREQ(n.probes[k].args, v[10] ? v + 11 : "");
			k++;
		}
	}
	ASSERT_EQ(pclose(f), 0);
	ASSERT_EQ(k, n.n);
	ss_usdt_notes_free(&n);
	free(cmd);
	free(path);
}

TEST(notes_arg_specs_of_every_form)
{
	static const struct ss_usdt_arg regs[] = {
		R(RAX, 4, 1), R(RDX, 4, 0), R(RSI, 2, 1), R(RDI, 1, 0) };
	static const struct ss_usdt_arg high[] = {
		R(R12, 8, 0), R(R9, 4, 1), R(R10, 2, 0), R(R11, 1, 1) };
	static const struct ss_usdt_arg consts[] = {
		C(-1, 4, 1), C(4294967295U, 4, 0), C(-5, 8, 0), C(255, 1, 1) };
	static const struct ss_usdt_arg mem[] = {
		M(8, RBX, 4, 1), M(0, RBX, 8, 0), M(-8, R12, 8, 1),
		SIB(4, RCX, RAX, 1, 2, 0) };
	static const struct ss_usdt_arg twelve[] = {
		C(1, 1, 0), C(2, 2, 0), C(3, 4, 0), C(4, 8, 0), C(5, 1, 1), C(6, 2, 1),
		C(7, 4, 1), C(8, 8, 1), R(RAX, 8, 0), R(RBX, 8, 0), R(RCX, 8, 0),
		R(RDX, 8, 0) };
	static const struct ss_usdt_arg rdi[] = { R(RDI, 8, 0) };
	char *path = probes_path();
	struct ss_usdt_notes n = read_ok(path);
	const struct ss_usdt_probe *p;

	p = probe_find(&n, "wsrt", "spawn", sites[0].args);
	ASSERT_EQ(p->err, 0);
	assert_spec("regs", &p->spec, regs, 4);
	p = probe_find(&n, "wsrt", "spawn", sites[1].args);
	ASSERT_EQ(p->err, 0);
	assert_spec("regs_high", &p->spec, high, 4);
	p = probe_find(&n, "wsrt", "spawn", sites[2].args);
	ASSERT_EQ(p->err, 0);
	assert_spec("consts", &p->spec, consts, 4);
	p = probe_find(&n, "wsrt", "spawn", sites[3].args);
	ASSERT_EQ(p->err, 0);
	assert_spec("mem", &p->spec, mem, 4);
	p = probe_find(&n, "ss_test", "none", "");
	ASSERT_EQ(p->err, 0);
	assert_spec("none", &p->spec, NULL, 0);
	p = probe_find(&n, "ss_test", "twelve", sites[6].args);
	ASSERT_EQ(p->err, 0);
	assert_spec("twelve", &p->spec, twelve, 12);
	p = probe_find(&n, "wsrt", "task_cancel", "8@%rdi");
	ASSERT_EQ(p->err, 0);
	assert_spec("task_cancel", &p->spec, rdi, 1);

	/* Refused, with a reason, the rest of the file still read. */
	p = probe_find(&n, "ss_test", "thirteen", sites[7].args);
	ASSERT_EQ(p->err, -E2BIG);
	ASSERT_HAS(p->why, "more than 12 arguments");
	p = probe_find(&n, "wsrt", "timer_fire", "8f@%xmm0");
	ASSERT_EQ(p->err, -ENOTSUP);
	ASSERT_HAS(p->why, "argument 1 '8f@%xmm0': floating-point");
	p = probe_find(&n, "ss_test", "rip", "-4@counter(%rip)");
	ASSERT_EQ(p->err, -ENOTSUP);
	ASSERT_HAS(p->why, "symbolic displacements");
	ss_usdt_notes_free(&n);
	free(path);
}

/* The runtime, an example and the shim: every probe readable. */
TEST(notes_of_the_project_binaries_all_parse)
{
	static const char *const files[] = {
		"../bin/lifo-stall", "../lib/libwsrt.so", "../lib/libstallscope-preload.so",
	};

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char *path = test_built(files[f]);
		struct ss_usdt_notes n = read_ok(path);

		ASSERT_GT(n.n, 0);
		for (unsigned i = 0; i < n.n; i++)
			if (n.probes[i].err)
				FAILF("%s: %s:%s '%s': %s", path, n.probes[i].provider,
				      n.probes[i].name, n.probes[i].args, n.probes[i].why);
		ss_usdt_notes_free(&n);
		free(path);
	}
}

TEST(notes_none_in_a_file_without_probes)
{
	struct ss_usdt_notes n;

	ASSERT_EQ(ss_usdt_notes_read("/proc/self/exe", &n), 0);
	ASSERT_EQ(n.n, 0);
	ss_usdt_notes_free(&n);
}

/* ---- the prelink adjustment ---- */

/* Every stapsdt note's description in b (walked here, not by usdt.c):
 * calls fn on the note's three addresses. */
static void notes_patch(struct bytes *b, void (*fn)(__u64 addrs[3], long arg), long arg)
{
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_version(EV_CURRENT) == EV_NONE || !(e = elf_memory((char *)b->p, b->len)) ||
	    elf_getshdrstrndx(e, &shstrndx))
		FAILF("cannot read the image");
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(e, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".note.stapsdt"))
			continue;
		for (size_t off = 0; off + 12 <= sh.sh_size; ) {
			__u32 hdr[3];
			unsigned char *note = b->p + sh.sh_offset + off;
			__u64 addrs[3];

			memcpy(hdr, note, sizeof(hdr));
			memcpy(addrs, note + 12 + ((hdr[0] + 3) & ~3U), sizeof(addrs));
			fn(addrs, arg);
			memcpy(note + 12 + ((hdr[0] + 3) & ~3U), addrs, sizeof(addrs));
			off += 12 + ((hdr[0] + 3) & ~3U) + ((hdr[1] + 3) & ~3U);
		}
	}
	elf_end(e);
}

static void base_raise(__u64 addrs[3], long by)
{
	addrs[1] += (__u64)by;
}

static void base_zero(__u64 addrs[3], long unused)
{
	addrs[1] = 0;
}

TEST(prelink_moved_base_moves_sites_and_semaphores)
{
	char *path = probes_path();
	struct ss_usdt_notes plain = read_ok(path), moved, nobase;
	struct bytes b = test_slurp(path);

	/* As if prelink had moved the file 16 bytes down after the notes
	 * were written: .stapsdt.base's address is 16 below the notes' copy
	 * (down: the semaphore is the last file-backed byte of its segment). */
	notes_patch(&b, base_raise, 16);
	ASSERT_EQ(ss_usdt_notes_read_mem(b.p, b.len, &moved), 0);
	ASSERT_EQ(moved.n, plain.n);
	for (unsigned i = 0; i < plain.n; i++) {
		const struct ss_usdt_probe *p = &plain.probes[i], *m = &moved.probes[i];

		ASSERT_EQ(m->err, p->err);
		ASSERT_EQ(m->pc, p->pc - 16);
		ASSERT_EQ(m->offset, p->offset - 16);
		ASSERT_EQ(m->ref_ctr_offset, p->ref_ctr_offset ? p->ref_ctr_offset - 16 : 0);
	}
	/* A note without a base: nothing to adjust. */
	free(b.p);
	b = test_slurp(path);
	notes_patch(&b, base_zero, 0);
	ASSERT_EQ(ss_usdt_notes_read_mem(b.p, b.len, &nobase), 0);
	for (unsigned i = 0; i < plain.n; i++) {
		ASSERT_EQ(nobase.probes[i].offset, plain.probes[i].offset);
		ASSERT_EQ(nobase.probes[i].ref_ctr_offset, plain.probes[i].ref_ctr_offset);
	}
	ss_usdt_notes_free(&plain);
	ss_usdt_notes_free(&moved);
	ss_usdt_notes_free(&nobase);
	free(b.p);
	free(path);
}

static void site_away(__u64 addrs[3], long unused)
{
	addrs[0] = 0x7fff0000;
	addrs[1] = 0;
}

TEST(a_site_outside_every_executable_segment_is_refused)
{
	char *path = probes_path();
	struct bytes b = test_slurp(path);
	struct ss_usdt_notes n;

	notes_patch(&b, site_away, 0);
	ASSERT_EQ(ss_usdt_notes_read_mem(b.p, b.len, &n), 0);
	ASSERT_GT(n.n, 0);
	for (unsigned i = 0; i < n.n; i++) {
		ASSERT_EQ(n.probes[i].err, -ENOENT);
		ASSERT_HAS(n.probes[i].why, "no executable segment");
	}
	ss_usdt_notes_free(&n);
	free(b.p);
	free(path);
}

/* ---- files that are not what they claim ---- */

TEST(not_an_elf_file_is_enoexec)
{
	static const char text[] = "#!/bin/sh\necho not an ELF file\n";
	struct ss_usdt_notes n;

	ASSERT_EQ(ss_usdt_notes_read_mem(text, sizeof(text), &n), -ENOEXEC);
	ASSERT_HAS(n.error, "not an ELF file");
	ss_usdt_notes_free(&n);
	ASSERT_EQ(ss_usdt_notes_read_mem(text, 0, &n), -ENOEXEC);
	ss_usdt_notes_free(&n);
	ASSERT_EQ(ss_usdt_notes_read("/proc/self/status", &n), -ENOEXEC);
	ss_usdt_notes_free(&n);
	ASSERT_EQ(ss_usdt_notes_read("/nonexistent/usdt-probes", &n), -ENOENT);
	ASSERT_HAS(n.error, "No such file");
	ss_usdt_notes_free(&n);
}

TEST(other_machines_and_classes_are_enotsup)
{
	char *path = probes_path();
	struct bytes b = test_slurp(path);
	struct ss_usdt_notes n;
	__u16 machine = 183;	/* EM_AARCH64 */

	memcpy(b.p + 18, &machine, 2);	/* e_machine */
	ASSERT_EQ(ss_usdt_notes_read_mem(b.p, b.len, &n), -ENOTSUP);
	ASSERT_HAS(n.error, "not an x86-64 ELF64 file");
	ss_usdt_notes_free(&n);
	free(b.p);
	b = test_slurp(path);
	b.p[EI_CLASS] = ELFCLASS32;
	ASSERT_LT(ss_usdt_notes_read_mem(b.p, b.len, &n), 0);
	ASSERT_NE(n.error[0], '\0');
	ss_usdt_notes_free(&n);
	free(b.p);
	free(path);
}

TEST(truncated_elf_is_an_error_never_a_crash)
{
	char *path = probes_path();
	struct bytes b = test_slurp(path);
	unsigned failed = 0, tries = 0;

	/* The section headers come last: every cut loses some. */
	for (size_t len = 0; len < b.len; len += len < 256 ? 1 : 37, tries++) {
		struct ss_usdt_notes n;
		int err = ss_usdt_notes_read_mem(b.p, len, &n);

		if (err >= 0)
			FAILF("cut at %zu of %zu: read as %u probes", len, b.len, n.n);
		if (!n.error[0])
			FAILF("cut at %zu: error %d without a message", len, err);
		failed++;
		ss_usdt_notes_free(&n);
	}
	ASSERT_EQ(failed, tries);
	free(b.p);
	free(path);
}

/* A stapsdt note whose strings run to the end of its description. */
static void note_strings_unterminated(struct bytes *b)
{
	unsigned char *p = memmem(b->p, b->len, "stapsdt\0", 8);

	for (; p && p + 8 + 24 < b->p + b->len; p = memmem(p + 1, (size_t)(b->p + b->len - p - 1), "stapsdt\0", 8)) {
		__u32 hdr[3];

		memcpy(hdr, p - 12, sizeof(hdr));
		if (hdr[0] != 8 || hdr[2] != 3 || hdr[1] < 27)
			continue;
		memset(p + 8 + 24, 'x', hdr[1] - 24);
		return;
	}
	FAILF("no stapsdt note found");
}

TEST(corrupt_notes_are_einval)
{
	char *path = probes_path();
	struct bytes b = test_slurp(path);
	struct ss_usdt_notes n;
	unsigned char *p;
	__u32 huge = 0x7fffffff;

	note_strings_unterminated(&b);
	ASSERT_EQ(ss_usdt_notes_read_mem(b.p, b.len, &n), -EINVAL);
	ASSERT_HAS(n.error, "usdt note at 0x");
	ss_usdt_notes_free(&n);
	free(b.p);

	/* A description size past the section's end. */
	b = test_slurp(path);
	p = memmem(b.p, b.len, "stapsdt\0", 8);
	ASSERT_TRUE(p);
	memcpy(p - 8, &huge, 4);
	ASSERT_EQ(ss_usdt_notes_read_mem(b.p, b.len, &n), -EINVAL);
	ASSERT_HAS(n.error, ".note.stapsdt: bad note at 0x");
	ss_usdt_notes_free(&n);
	free(b.p);

	/* Section headers claimed past the end of the file. */
	b = test_slurp(path);
	__u64 shoff = b.len - 8;
	memcpy(b.p + 40, &shoff, 8);	/* e_shoff */
	ASSERT_EQ(ss_usdt_notes_read_mem(b.p, b.len, &n), -EINVAL);
	ASSERT_HAS(n.error, "past the end of the file");
	ss_usdt_notes_free(&n);
	free(b.p);
	free(path);
}

/* Any byte changed anywhere: an error or probes that make sense. */
TEST_T(corrupt_bytes_never_crash, 120)
{
	char *path = probes_path();
	struct bytes orig = test_slurp(path), b = test_slurp(path);
	unsigned long long x = 0x9e3779b97f4a7c15ULL;
	unsigned rounds = 3000 / test_slow_factor();

	for (unsigned round = 0; round < rounds; round++) {
		struct ss_usdt_notes n;
		int err;

		memcpy(b.p, orig.p, b.len);
		for (int k = 0; k < 4; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;	/* xorshift64 */
			/* Most rounds hit the headers and notes, where it matters. */
			size_t at = (x >> 8) % (round & 1 ? b.len : 512);
			b.p[at] = (unsigned char)x;
		}
		err = ss_usdt_notes_read_mem(b.p, b.len, &n);
		if (err > 0)
			FAILF("round %u: %d", round, err);
		if (err < 0 && !n.error[0])
			FAILF("round %u: error %d without a message", round, err);
		for (unsigned i = 0; !err && i < n.n; i++) {
			const struct ss_usdt_probe *p = &n.probes[i];

			ASSERT_TRUE(p->provider[0] && p->name[0]);
			if (p->err) {
				ASSERT_NE(p->why[0], '\0');
				continue;
			}
			ASSERT_LT(p->offset, b.len);
			ASSERT_LT(p->ref_ctr_offset, b.len);
			ASSERT_LE(p->spec.nargs, SS_USDT_MAX_ARGS);
		}
		ss_usdt_notes_free(&n);
	}
	free(orig.p);
	free(b.p);
	free(path);
}

/* ---- the argument syntax ---- */

TEST(args_parse_every_form)
{
	static const struct {
		const char *s;
		struct ss_usdt_arg want;
	} good[] = {
		{ "8@%rax", R(RAX, 8, 0) },
		{ "-4@%eax", R(RAX, 4, 1) },
		{ "2@%ax", R(RAX, 2, 0) },
		{ "-1@%al", R(RAX, 1, 1) },
		{ "8@%rsp", R(RSP, 8, 0) },
		{ "1@%bpl", R(RBP, 1, 0) },
		{ "-4@%r15d", R(R15, 4, 1) },
		{ "2@%r8w", R(R8, 2, 0) },
		{ "1@%r13b", R(R13, 1, 0) },
		{ "4@$0", C(0, 4, 0) },
		{ "-8@$-9223372036854775808", C(1ULL << 63, 8, 1) },
		{ "8@$18446744073709551615", C(~0ULL, 8, 0) },
		{ "8@$0x7fffffffffffffff", C(0x7fffffffffffffffULL, 8, 0) },
		{ "-4@$-0x10", C(-16, 4, 1) },
		{ "-4@-20(%rbp)", M(-20, RBP, 4, 1) },
		{ "8@(%rsp)", M(0, RSP, 8, 0) },
		{ "8@16(%rsp)", M(16, RSP, 8, 0) },
		{ "-8@0(%rax)", M(0, RAX, 8, 1) },
		{ "4@2088(%r12)", M(2088, R12, 4, 0) },
		{ "-1@-96(%rbp,%rax,8)", SIB(-96, RBP, RAX, 3, 1, 1) },
		{ "4@(%rbx,%rcx)", SIB(0, RBX, RCX, 0, 4, 0) },
		{ "2@4(%rdi,%r9,4)", SIB(4, RDI, R9, 2, 2, 0) },
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct ss_usdt_arg a;
		char why[128] = "";
		int err = ss_usdt_arg_parse(good[i].s, strlen(good[i].s), &a, why, sizeof(why));

		if (err)
			FAILF("'%s': %d (%s)", good[i].s, err, why);
		assert_arg(good[i].s, 0, &a, &good[i].want);
	}
}

TEST(args_parse_refuses_what_it_cannot_read)
{
	static const struct {
		const char *s;
		int err;
		const char *why;
	} bad[] = {
		{ "", -EINVAL, "no SIZE@" },
		{ "%rax", -EINVAL, "no SIZE@" },
		{ "3@%rax", -EINVAL, "size must be" },
		{ "16@%rax", -EINVAL, "size must be" },
		{ "0@%rax", -EINVAL, "size must be" },
		{ "@%rax", -EINVAL, "size must be" },
		{ "-@%rax", -EINVAL, "size must be" },
		{ "99999999999999999999@%rax", -EINVAL, "size must be" },
		{ "8@", -EINVAL, "no operand" },
		{ "8f@%xmm0", -ENOTSUP, "floating-point" },
		{ "8@%xmm0", -ENOTSUP, "unknown register" },
		{ "1@%ah", -ENOTSUP, "unknown register" },
		{ "8@%rip", -ENOTSUP, "unknown register" },
		{ "8@%", -ENOTSUP, "unknown register" },
		{ "8@$", -EINVAL, "bad constant" },
		{ "8@$-", -EINVAL, "bad constant" },
		{ "8@$0x", -EINVAL, "bad constant" },
		{ "8@$12a", -EINVAL, "bad constant" },
		{ "8@$18446744073709551616", -ERANGE, "bad constant" },
		{ "8@$-9223372036854775809", -ERANGE, "bad constant" },
		{ "8@$sym", -ENOTSUP, "symbolic constants" },
		{ "4@counter(%rip)", -ENOTSUP, "symbolic displacements" },
		{ "4@-sym(%rbx)", -ENOTSUP, "symbolic displacements" },
		{ "4@8(%rip)", -ENOTSUP, "rip-relative" },
		{ "4@8(%eax)", -ENOTSUP, "32-bit addressing" },
		{ "4@8(%xmm1)", -ENOTSUP, "unknown base register" },
		{ "4@8(%rax", -EINVAL, "not a known operand form" },
		{ "4@8", -EINVAL, "not a known operand form" },
		{ "4@()", -EINVAL, "not a known operand form" },
		{ "4@8x(%rax)", -EINVAL, "bad displacement" },
		{ "4@(,%rax,4)", -ENOTSUP, "without a base register" },
		{ "4@(%rax,%rsp,2)", -ENOTSUP, "bad index register" },
		{ "4@(%rax,%ecx,2)", -ENOTSUP, "bad index register" },
		{ "4@(%rax,%rcx,3)", -EINVAL, "scale must be" },
		{ "4@(%rax,%rcx,16)", -EINVAL, "scale must be" },
		{ "4@(%rax,%rcx,2,1)", -EINVAL, "too many address parts" },
		{ "4@%fs:8", -ENOTSUP, "unknown register" },
		{ "4@%fs:8(%rax)", -ENOTSUP, "unknown register" },
		{ "4@8:(%rax)", -ENOTSUP, "segment prefixes" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ss_usdt_arg a;
		char why[128] = "";
		int err = ss_usdt_arg_parse(bad[i].s, strlen(bad[i].s), &a, why, sizeof(why));

		if (err != bad[i].err || !strstr(why, bad[i].why))
			FAILF("'%s': %d (%s), want %d (%s)", bad[i].s, err, why, bad[i].err,
			      bad[i].why);
	}
}

TEST(args_parse_a_whole_string)
{
	struct ss_usdt_spec spec;
	char why[160] = "";

	ASSERT_EQ(ss_usdt_args_parse("", &spec, why, sizeof(why)), 0);
	ASSERT_EQ(spec.nargs, 0);
	ASSERT_EQ(ss_usdt_args_parse("  8@%rax\t-4@$3  ", &spec, why, sizeof(why)), 0);
	ASSERT_EQ(spec.nargs, 2);
	ASSERT_EQ(spec.args[1].type, SS_USDT_ARG_CONST);
	ASSERT_EQ(spec.args[1].val, 3);
	/* One bad argument refuses the probe, naming it; the spec is empty. */
	ASSERT_EQ(ss_usdt_args_parse("8@%rax 8@%rbx 2@%xmm7", &spec, why, sizeof(why)),
		  -ENOTSUP);
	ASSERT_HAS(why, "argument 3 '2@%xmm7': unknown register");
	ASSERT_EQ(spec.nargs, 0);
	ASSERT_EQ(spec.args[0].type, SS_USDT_ARG_NONE);
	/* A long argument is cut in the message, not overrun. */
	char longarg[400];
	memset(longarg, '9', sizeof(longarg) - 1);
	longarg[sizeof(longarg) - 1] = '\0';
	ASSERT_EQ(ss_usdt_args_parse(longarg, &spec, why, sizeof(why)), -EINVAL);
	ASSERT_HAS(why, "no SIZE@");
}
