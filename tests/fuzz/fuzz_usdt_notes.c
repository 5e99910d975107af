/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the USDT note reader (userspace/usdt.c): the input
 * is a whole ELF file, read with ss_usdt_notes_read_mem().  stallscope
 * reads the notes of whatever the traced process maps, so these are
 * untrusted bytes.  ASan catches any read past the input; the checks
 * trap on a broken promise: an error is negative with a message; a probe
 * has a provider and a name; an attachable one has its site (and its
 * semaphore, if any) inside the file and a well-formed spec; a refused
 * one says why.  Even-length inputs also go through the argument parser
 * alone, as a string.  Seeds: tests/fuzz/corpus/usdt_notes/: probes-so is
 * tests/tools/usdt_probes*.c as a small stripped library (every argument
 * form, refused ones, a semaphore):
 *   gcc -O2 -s -fPIC -shared -nostdlib -Dmain=usdt_main -Itests/tools \
 *     -Wl,-z,noseparate-code,-z,max-page-size=16,-z,common-page-size=16 \
 *     -Wl,--build-id=none,-z,norelro tests/tools/usdt_probes*.c -o probes-so
 * probes-so-cut-2k is its first 2 KiB; probes-so-base-moved has every
 * note's copy of the .stapsdt.base address raised by 16 (as after prelink).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iuserspace \
 *      tests/fuzz/fuzz_usdt_notes.c userspace/usdt.c userspace/elf_file.c -lelf -o fz
 *   ./fz -max_total_time=60 CORPUS_COPY/ tests/fuzz/corpus/usdt_notes/
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/usdt.h"
#include "tests/fuzz/fuzz.h"

static void check_spec(const struct ss_usdt_spec *spec)
{
	CHECK(spec->nargs <= SS_USDT_MAX_ARGS);
	CHECK(spec->cookie == 0 && spec->pad == 0);
	for (unsigned i = 0; i < SS_USDT_MAX_ARGS; i++) {
		const struct ss_usdt_arg *a = &spec->args[i];

		if (i >= spec->nargs) {
			CHECK(a->type == SS_USDT_ARG_NONE);
			continue;
		}
		CHECK(a->type >= SS_USDT_ARG_CONST && a->type <= SS_USDT_ARG_SIB);
		CHECK(a->size == 1 || a->size == 2 || a->size == 4 || a->size == 8);
		CHECK(a->is_signed <= 1 && a->scale_shift <= 3);
		CHECK(a->reg_off < SS_USDT_REG_LIMIT && a->reg_off % 8 == 0);
		CHECK(a->idx_reg_off < SS_USDT_REG_LIMIT && a->idx_reg_off % 8 == 0);
	}
}

static void fuzz_args(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), why[160];
	struct ss_usdt_spec spec;
	int err;

	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	why[0] = '\0';
	err = ss_usdt_args_parse(s, &spec, why, sizeof(why));
	CHECK(err <= 0);
	if (err)
		CHECK(why[0] && TERMINATED(why) && spec.nargs == 0);
	else
		check_spec(&spec);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_usdt_notes n;
	int err = ss_usdt_notes_read_mem(data, size, &n);

	CHECK(err <= 0);
	CHECK(TERMINATED(n.error));
	if (err) {
		CHECK(n.error[0] != '\0');
	} else {
		for (unsigned i = 0; i < n.n; i++) {
			const struct ss_usdt_probe *p = &n.probes[i];

			CHECK(p->provider[0] && p->name[0] && p->args);
			CHECK(p->err <= 0 && TERMINATED(p->why));
			if (p->err) {
				CHECK(p->why[0] != '\0');
				continue;
			}
			CHECK(p->offset < size);
			CHECK(p->ref_ctr_offset < size);
			check_spec(&p->spec);
		}
	}
	ss_usdt_notes_free(&n);
	if (size % 2 == 0)
		fuzz_args(data, size);
	return 0;
}
