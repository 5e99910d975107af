/* SPDX-License-Identifier: MIT */
/*
 * USDT notes and argument specs (usdt.h).
 *
 * A note of `.note.stapsdt` (name "stapsdt", type 3) is, on ELF64: the
 * probe's address, the link-time address of `.stapsdt.base` and the
 * semaphore's address (three u64), then provider, name and argument
 * string, each NUL-terminated.  Prelink may move the file after the notes
 * were written; it moves the `.stapsdt.base` section with it, so the
 * difference between that section's address and the note's copy of it
 * is added to the probe's and the semaphore's addresses (systemtap's
 * UserSpaceProbeImplementation).  A uprobe and its semaphore are given as
 * file offsets: the address minus its PT_LOAD segment's p_vaddr plus its
 * p_offset; the site must be in an executable segment, the semaphore in
 * a writable, non-executable one (the kernel raises it only in a writable
 * private mapping of the file), both within the segment's file-backed
 * part.
 *
 * Libelf reads the headers and the note section; every count and offset
 * the file claims is checked against its size before it is used.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_file.h"
#include "usdt.h"

#define NOTE_NAME "stapsdt"
#define NOTE_TYPE 3		/* NT_STAPSDT: sys/sdt.h's _SDT_NOTE_TYPE */
#define NOTE_SECTION ".note.stapsdt"
#define BASE_SECTION ".stapsdt.base"

/* ---- arguments ------------------------------------------------------------- */

struct reg_name {
	const char *name;
	__u16 off;
	__u8 bits;
};

/* The general registers by every name an operand may use; %ah..%dh (bits
 * 8..15) and %rip are deliberately absent. */
static const struct reg_name regs[] = {
	{ "rax", SS_USDT_REG_RAX, 64 }, { "eax", SS_USDT_REG_RAX, 32 },
	{ "ax", SS_USDT_REG_RAX, 16 },	{ "al", SS_USDT_REG_RAX, 8 },
	{ "rbx", SS_USDT_REG_RBX, 64 }, { "ebx", SS_USDT_REG_RBX, 32 },
	{ "bx", SS_USDT_REG_RBX, 16 },	{ "bl", SS_USDT_REG_RBX, 8 },
	{ "rcx", SS_USDT_REG_RCX, 64 }, { "ecx", SS_USDT_REG_RCX, 32 },
	{ "cx", SS_USDT_REG_RCX, 16 },	{ "cl", SS_USDT_REG_RCX, 8 },
	{ "rdx", SS_USDT_REG_RDX, 64 }, { "edx", SS_USDT_REG_RDX, 32 },
	{ "dx", SS_USDT_REG_RDX, 16 },	{ "dl", SS_USDT_REG_RDX, 8 },
	{ "rsi", SS_USDT_REG_RSI, 64 }, { "esi", SS_USDT_REG_RSI, 32 },
	{ "si", SS_USDT_REG_RSI, 16 },	{ "sil", SS_USDT_REG_RSI, 8 },
	{ "rdi", SS_USDT_REG_RDI, 64 }, { "edi", SS_USDT_REG_RDI, 32 },
	{ "di", SS_USDT_REG_RDI, 16 },	{ "dil", SS_USDT_REG_RDI, 8 },
	{ "rbp", SS_USDT_REG_RBP, 64 }, { "ebp", SS_USDT_REG_RBP, 32 },
	{ "bp", SS_USDT_REG_RBP, 16 },	{ "bpl", SS_USDT_REG_RBP, 8 },
	{ "rsp", SS_USDT_REG_RSP, 64 }, { "esp", SS_USDT_REG_RSP, 32 },
	{ "sp", SS_USDT_REG_RSP, 16 },	{ "spl", SS_USDT_REG_RSP, 8 },
	{ "r8", SS_USDT_REG_R8, 64 },	{ "r8d", SS_USDT_REG_R8, 32 },
	{ "r8w", SS_USDT_REG_R8, 16 },	{ "r8b", SS_USDT_REG_R8, 8 },
	{ "r9", SS_USDT_REG_R9, 64 },	{ "r9d", SS_USDT_REG_R9, 32 },
	{ "r9w", SS_USDT_REG_R9, 16 },	{ "r9b", SS_USDT_REG_R9, 8 },
	{ "r10", SS_USDT_REG_R10, 64 }, { "r10d", SS_USDT_REG_R10, 32 },
	{ "r10w", SS_USDT_REG_R10, 16 }, { "r10b", SS_USDT_REG_R10, 8 },
	{ "r11", SS_USDT_REG_R11, 64 }, { "r11d", SS_USDT_REG_R11, 32 },
	{ "r11w", SS_USDT_REG_R11, 16 }, { "r11b", SS_USDT_REG_R11, 8 },
	{ "r12", SS_USDT_REG_R12, 64 }, { "r12d", SS_USDT_REG_R12, 32 },
	{ "r12w", SS_USDT_REG_R12, 16 }, { "r12b", SS_USDT_REG_R12, 8 },
	{ "r13", SS_USDT_REG_R13, 64 }, { "r13d", SS_USDT_REG_R13, 32 },
	{ "r13w", SS_USDT_REG_R13, 16 }, { "r13b", SS_USDT_REG_R13, 8 },
	{ "r14", SS_USDT_REG_R14, 64 }, { "r14d", SS_USDT_REG_R14, 32 },
	{ "r14w", SS_USDT_REG_R14, 16 }, { "r14b", SS_USDT_REG_R14, 8 },
	{ "r15", SS_USDT_REG_R15, 64 }, { "r15d", SS_USDT_REG_R15, 32 },
	{ "r15w", SS_USDT_REG_R15, 16 }, { "r15b", SS_USDT_REG_R15, 8 },
};

static int why_set(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int why_set(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* A register "%NAME" at s (len bytes); NULL if unknown. */
static const struct reg_name *reg_lookup(const char *s, size_t len)
{
	if (len < 2 || s[0] != '%')
		return NULL;
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		if (strlen(regs[i].name) == len - 1 &&
		    !memcmp(regs[i].name, s + 1, len - 1))
			return &regs[i];
	return NULL;
}

/* A number at s (len bytes, all of it): [-]DIGITS or [-]0xHEX, as a
 * two's complement u64.  0, or -ERANGE / -EINVAL. */
static int number_parse(const char *s, size_t len, __u64 *out)
{
	bool neg = len && s[0] == '-';
	unsigned base = 10;
	__u64 v = 0;
	size_t i = neg;

	if (len - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		base = 16;
		i += 2;
	}
	if (i >= len)
		return -EINVAL;
	for (; i < len; i++) {
		unsigned d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (neg && v > (1ULL << 63))
		return -ERANGE;
	*out = neg ? 0 - v : v;
	return 0;
}

static bool is_symbol_start(char c)
{
	return c == '_' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A memory operand: [DISP](%BASE[,%IDX[,SCALE]]) at s (len bytes). */
static int mem_parse(const char *s, size_t len, struct ss_usdt_arg *a,
		     char *why, size_t why_len)
{
	const char *open = memchr(s, '(', len), *end = s + len;
	const char *parts[3];
	size_t plen[3], np = 0;
	const struct reg_name *base, *idx;
	int err;

	if (!open || end[-1] != ')')
		return why_set(why, why_len, -EINVAL, "not a known operand form");
	if (open > s) {
		if (is_symbol_start(*s) || (*s == '-' && open - s > 1 && is_symbol_start(s[1])))
			return why_set(why, why_len, -ENOTSUP,
				       "symbolic displacements are not supported");
		if ((err = number_parse(s, (size_t)(open - s), &a->val)))
			return why_set(why, why_len, err, "bad displacement");
	}
	/* Split what is inside the parentheses at the commas. */
	for (const char *p = open + 1;; ) {
		const char *comma = memchr(p, ',', (size_t)(end - 1 - p));
		const char *stop = comma ? comma : end - 1;

		if (np == 3)
			return why_set(why, why_len, -EINVAL, "too many address parts");
		parts[np] = p;
		plen[np++] = (size_t)(stop - p);
		if (!comma)
			break;
		p = comma + 1;
	}
	if (!plen[0] && np > 1)
		return why_set(why, why_len, -ENOTSUP,
			       "addresses without a base register are not supported");
	if (!plen[0])
		return why_set(why, why_len, -EINVAL, "not a known operand form");
	if (plen[0] == 4 && !memcmp(parts[0], "%rip", 4))
		return why_set(why, why_len, -ENOTSUP, "rip-relative addresses are not supported");
	base = reg_lookup(parts[0], plen[0]);
	if (!base)
		return why_set(why, why_len, -ENOTSUP, "unknown base register '%.*s'",
			       (int)(plen[0] > 16 ? 16 : plen[0]), parts[0]);
	if (base->bits != 64)
		return why_set(why, why_len, -ENOTSUP, "32-bit addressing is not supported");
	a->reg_off = base->off;
	if (np == 1) {
		a->type = SS_USDT_ARG_REG_DEREF;
		return 0;
	}
	idx = reg_lookup(parts[1], plen[1]);
	if (!idx || idx->bits != 64 || idx->off == SS_USDT_REG_RSP)
		return why_set(why, why_len, -ENOTSUP, "bad index register '%.*s'",
			       (int)(plen[1] > 16 ? 16 : plen[1]), parts[1]);
	a->type = SS_USDT_ARG_SIB;
	a->idx_reg_off = idx->off;
	if (np == 3) {
		if (plen[2] != 1 || !strchr("1248", parts[2][0]))
			return why_set(why, why_len, -EINVAL, "scale must be 1, 2, 4 or 8");
		a->scale_shift = parts[2][0] == '1' ? 0 : parts[2][0] == '2' ? 1 :
				 parts[2][0] == '4' ? 2 : 3;
	}
	return 0;
}

int ss_usdt_arg_parse(const char *s, size_t len, struct ss_usdt_arg *a,
		      char *why, size_t why_len)
{
	const char *at = memchr(s, '@', len), *op;
	size_t oplen, i = 0;
	bool is_signed = false;
	unsigned size = 0;
	int err;

	memset(a, 0, sizeof(*a));
	if (!at)
		return why_set(why, why_len, -EINVAL, "no SIZE@ prefix");
	if (s[0] == '-') {
		is_signed = true;
		i = 1;
	}
	for (; i < (size_t)(at - s) && s[i] >= '0' && s[i] <= '9' && size < 100; i++)
		size = size * 10 + (unsigned)(s[i] - '0');
	if (i < (size_t)(at - s) && s[i] == 'f' && i + 1 == (size_t)(at - s))
		return why_set(why, why_len, -ENOTSUP, "floating-point arguments are not supported");
	if (i != (size_t)(at - s) || (size != 1 && size != 2 && size != 4 && size != 8))
		return why_set(why, why_len, -EINVAL, "size must be 1, 2, 4 or 8");
	a->size = (__u8)size;
	a->is_signed = is_signed;
	op = at + 1;
	oplen = len - (size_t)(op - s);
	if (!oplen)
		return why_set(why, why_len, -EINVAL, "no operand");
	if (op[0] == '$') {
		if (oplen > 1 && (is_symbol_start(op[1])))
			return why_set(why, why_len, -ENOTSUP,
				       "symbolic constants are not supported");
		if ((err = number_parse(op + 1, oplen - 1, &a->val)))
			return why_set(why, why_len, err, "bad constant");
		a->type = SS_USDT_ARG_CONST;
		return 0;
	}
	if (op[0] == '%') {
		const struct reg_name *r = reg_lookup(op, oplen);

		if (!r)
			return why_set(why, why_len, -ENOTSUP, "unknown register '%.*s'",
				       (int)(oplen > 16 ? 16 : oplen), op);
		a->type = SS_USDT_ARG_REG;
		a->reg_off = r->off;
		return 0;
	}
	if (memchr(op, ':', oplen))
		return why_set(why, why_len, -ENOTSUP, "segment prefixes are not supported");
	return mem_parse(op, oplen, a, why, why_len);
}

int ss_usdt_args_parse(const char *s, struct ss_usdt_spec *spec, char *why,
		       size_t why_len)
{
	memset(spec, 0, sizeof(*spec));
	for (;;) {
		size_t len;
		char one[128];
		int err;

		s += strspn(s, " \t");
		if (!*s)
			return 0;
		len = strcspn(s, " \t");
		if (spec->nargs == SS_USDT_MAX_ARGS) {
			memset(spec, 0, sizeof(*spec));
			return why_set(why, why_len, -E2BIG, "more than %d arguments",
				       SS_USDT_MAX_ARGS);
		}
		err = ss_usdt_arg_parse(s, len, &spec->args[spec->nargs], one, sizeof(one));
		if (err) {
			unsigned nth = spec->nargs + 1;

			memset(spec, 0, sizeof(*spec));
			return why_set(why, why_len, err, "argument %u '%.*s': %s", nth,
				       (int)(len > 32 ? 32 : len), s, one);
		}
		spec->nargs++;
		s += len;
	}
}

/* ---- notes ----------------------------------------------------------------- */

struct reader {
	struct ss_elf_file f;
	struct ss_usdt_notes *out;
};

static int fail(struct ss_usdt_notes *out, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct ss_usdt_notes *out, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->error, sizeof(out->error), fmt, ap);
	va_end(ap);
	return err;
}

static int probe_add(struct reader *r, const char *provider, const char *name,
		     const char *args, const __u64 addrs[3], __u64 base)
{
	struct ss_usdt_notes *out = r->out;
	struct ss_usdt_probe *p, *np;
	__u64 pc = addrs[0], sema = addrs[2];

	np = realloc(out->probes, (out->n + 1) * sizeof(*np));
	if (!np)
		return fail(out, -ENOMEM, "out of memory");
	out->probes = np;
	p = &np[out->n];
	memset(p, 0, sizeof(*p));
	p->provider = strdup(provider);
	p->name = strdup(name);
	p->args = strdup(args);
	out->n++;
	if (!p->provider || !p->name || !p->args)
		return fail(out, -ENOMEM, "out of memory");
	/* Prelink moved the file by base - addrs[1] (0 when it did not). */
	if (base && addrs[1]) {
		pc += base - addrs[1];
		if (sema)
			sema += base - addrs[1];
	}
	p->pc = pc;
	if (!ss_elf_offset(&r->f, pc, true, &p->offset)) {
		p->err = why_set(p->why, sizeof(p->why), -ENOENT,
				 "its address 0x%llx is in no executable segment",
				 (unsigned long long)pc);
		return 0;
	}
	if (sema && !ss_elf_offset(&r->f, sema, false, &p->ref_ctr_offset)) {
		p->err = why_set(p->why, sizeof(p->why), -ENOENT,
				 "its semaphore 0x%llx is in no writable data segment",
				 (unsigned long long)sema);
		return 0;
	}
	p->err = ss_usdt_args_parse(args, &p->spec, p->why, sizeof(p->why));
	return 0;
}

/* One note's description: three addresses, then provider, name and
 * arguments, NUL-terminated within it. */
static int note_parse(struct reader *r, const char *desc, size_t len, size_t at,
		      __u64 base)
{
	__u64 addrs[3];
	const char *provider = desc + sizeof(addrs), *name, *args, *end = desc + len;

	if (len < sizeof(addrs) + 3)
		return fail(r->out, -EINVAL, "usdt note at 0x%zx: too short", at);
	memcpy(addrs, desc, sizeof(addrs));
	name = memchr(provider, '\0', (size_t)(end - provider));
	if (!name || name == provider || ++name >= end)
		return fail(r->out, -EINVAL, "usdt note at 0x%zx: bad provider", at);
	args = memchr(name, '\0', (size_t)(end - name));
	if (!args || args == name || ++args >= end)
		return fail(r->out, -EINVAL, "usdt note at 0x%zx: bad name", at);
	if (!memchr(args, '\0', (size_t)(end - args)))
		return fail(r->out, -EINVAL, "usdt note at 0x%zx: arguments not terminated", at);
	return probe_add(r, provider, name, args, addrs, base);
}

static int notes_parse(struct reader *r)
{
	Elf_Scn *scn = NULL, *notes = NULL;
	Elf_Data *data;
	size_t shstrndx, off = 0, next, name_off, desc_off;
	__u64 base = 0;
	GElf_Nhdr nh;
	int err;

	if (elf_getshdrstrndx(r->f.elf, &shstrndx))
		return fail(r->out, -EINVAL, "cannot read the section names: %s", elf_errmsg(-1));
	while ((scn = elf_nextscn(r->f.elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			return fail(r->out, -EINVAL, "cannot read a section header: %s",
				    elf_errmsg(-1));
		name = elf_strptr(r->f.elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, NOTE_SECTION) && sh.sh_type == SHT_NOTE)
			notes = scn;
		else if (!strcmp(name, BASE_SECTION))
			base = sh.sh_addr;
	}
	if (!notes)
		return 0;
	data = elf_getdata(notes, NULL);
	if (!data)
		return fail(r->out, -EINVAL, "cannot read " NOTE_SECTION ": %s", elf_errmsg(-1));
	while (off < data->d_size &&
	       (next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NOTE_TYPE && nh.n_namesz == sizeof(NOTE_NAME) &&
		    !memcmp((const char *)data->d_buf + name_off, NOTE_NAME, sizeof(NOTE_NAME)) &&
		    (err = note_parse(r, (const char *)data->d_buf + desc_off, nh.n_descsz,
				      off, base)))
			return err;
		off = next;
	}
	if (off < data->d_size)
		return fail(r->out, -EINVAL, NOTE_SECTION ": bad note at 0x%zx", off);
	return 0;
}

/* r->f just opened (err: how that went). */
static int read_notes(struct reader *r, int err)
{
	if (!err)
		err = notes_parse(r);
	ss_elf_close(&r->f);
	return err;
}

int ss_usdt_notes_read(const char *path, struct ss_usdt_notes *out)
{
	struct reader r = { .out = out };

	memset(out, 0, sizeof(*out));
	return read_notes(&r, ss_elf_open(&r.f, path, out->error, sizeof(out->error)));
}

int ss_usdt_notes_read_mem(const void *buf, size_t len, struct ss_usdt_notes *out)
{
	struct reader r = { .out = out };

	memset(out, 0, sizeof(*out));
	return read_notes(&r, ss_elf_open_mem(&r.f, buf, len, out->error, sizeof(out->error)));
}

void ss_usdt_notes_free(struct ss_usdt_notes *n)
{
	for (unsigned i = 0; i < n->n; i++) {
		free(n->probes[i].provider);
		free(n->probes[i].name);
		free(n->probes[i].args);
	}
	free(n->probes);
	n->probes = NULL;
	n->n = 0;
}
