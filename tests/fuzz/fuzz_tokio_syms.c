/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the Tokio symbol reader (userspace/tokio_syms.c):
 * the input is a whole ELF file, read with ss_tokio_syms_read_mem() —
 * stallscope reads the symbol tables of whatever binary it records, so
 * these are untrusted bytes — and, as a NUL-terminated string, a mangled
 * name for ss_tokio_classify().  ASan catches any read past the input;
 * the checks trap on a broken promise: an error is negative with a
 * message; every site lies inside the file, once.  Seeds:
 * tests/fuzz/corpus/tokio_syms/: syms-so is a small library whose
 * functions are named as rustc names Tokio's (legacy and v0):
 *   gcc -O2 -fPIC -shared -nostdlib \
 *     -Wl,-z,noseparate-code,-z,max-page-size=16,-z,common-page-size=16 \
 *     -Wl,--build-id=none,-z,norelro tsyms.c -o syms-so
 * (tsyms.c: one empty function per name, each named with __asm__);
 * syms-so-cut-2k is its first 2 KiB.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iuserspace \
 *     tests/fuzz/fuzz_tokio_syms.c userspace/tokio_syms.c userspace/elf_file.c -ldw -lelf -o fz
 *   ./fz -max_total_time=60 CORPUS_COPY/ tests/fuzz/corpus/tokio_syms/
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/tokio_syms.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_tokio_syms s;
	int err = ss_tokio_syms_read_mem(data, size, &s);
	char *name;
	bool tokio;

	CHECK(err <= 0);
	CHECK(TERMINATED(s.error));
	if (err) {
		CHECK(s.error[0] != '\0');
	} else {
		for (unsigned f = 0; f < SS_TOKIO_NFNS; f++)
			for (unsigned i = 0; i < s.n[f]; i++) {
				CHECK(s.sites[f][i].offset < size);
				for (unsigned j = 0; j < i; j++)
					CHECK(s.sites[f][i].addr != s.sites[f][j].addr);
			}
	}
	ss_tokio_syms_free(&s);
	name = malloc(size + 1);
	if (!name)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	CHECK((unsigned)ss_tokio_classify(name, &tokio) <= SS_TOKIO_NFNS);
	free(name);
	return 0;
}
