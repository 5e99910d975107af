/* SPDX-License-Identifier: MIT */
/*
 * Tokio's task entry points found in real binaries (userspace/tokio_syms.c):
 * names as rustc mangles them (legacy, from Debian's rustc 1.63; v0, from
 * the same example built with -C symbol-mangling-version=v0), and the
 * example's release and fat-LTO builds (examples/tokio-lifo, built by make
 * into BUILD/bin/).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "userspace/tokio_syms.h"

static enum ss_tokio_fn classify(const char *s, bool *tokio)
{
	return ss_tokio_classify(s, tokio);
}

TEST(legacy_names)
{
	bool tokio;

	ASSERT_EQ(classify("_ZN5tokio7runtime4task3raw4poll17h1d4553865a9721deE"
			   ".llvm.8373976697724935243", &tokio), SS_TOKIO_RAW_POLL);
	ASSERT_TRUE(tokio);
	ASSERT_EQ(classify("_ZN5tokio7runtime4task3raw8schedule17h1dd25a350fa54d75E", &tokio),
		  SS_TOKIO_RAW_SCHEDULE);
	ASSERT_EQ(classify("_ZN5tokio7runtime9scheduler12multi_thread6worker73_$LT$impl$u20$"
			   "tokio..runtime..scheduler..multi_thread..handle..Handle$GT$"
			   "13schedule_task17h396d158032311498E", &tokio), SS_TOKIO_SCHEDULE_TASK);
	/* Tokio's, but other functions: RawTask::poll, Core<T, S>::poll. */
	ASSERT_EQ(classify("_ZN5tokio7runtime4task3raw7RawTask4poll17hd716aa122cfd807fE", &tokio),
		  SS_TOKIO_NFNS);
	ASSERT_TRUE(tokio);
	ASSERT_EQ(classify("_ZN5tokio7runtime4task4core17Core$LT$T$C$S$GT$4poll"
			   "17h5596e1e164e1b5d2E", &tokio), SS_TOKIO_NFNS);
	ASSERT_TRUE(tokio);
	/* Another crate's raw::poll. */
	ASSERT_EQ(classify("_ZN6notkio7runtime4task3raw4poll17h1d4553865a9721deE", &tokio),
		  SS_TOKIO_NFNS);
	ASSERT_FALSE(tokio);
}

TEST(v0_names)
{
	bool tokio;

	ASSERT_EQ(classify("_RINvNtNtNtCshmfeV12mFaw_5tokio7runtime4task3raw4pollINtNvNtCs6IL9"
			   "ONYDOZW_4core6future14from_generator9GenFutureNCNvCsmIETLnKUju_10tok"
			   "io_lifo8run_wake0EINtNtCsihNoVIYWwLU_5alloc4sync3ArcNtNtNtNtB6_9sched"
			   "uler12multi_thread6handle6HandleEEB1P_.llvm.16177147483029653607", &tokio),
		  SS_TOKIO_RAW_POLL);
	ASSERT_TRUE(tokio);
	ASSERT_EQ(classify("_RINvNtNtNtCshmfeV12mFaw_5tokio7runtime4task3raw8scheduleNtNtNtB6_8"
			   "blocking8schedule16BlockingScheduleEB8_.llvm.6826783404427230811", &tokio),
		  SS_TOKIO_RAW_SCHEDULE);
	ASSERT_EQ(classify("_RNvMs3_NtNtNtNtCshmfeV12mFaw_5tokio7runtime9scheduler12multi_thread"
			   "6workerNtNtB7_6handle6Handle13schedule_task", &tokio),
		  SS_TOKIO_SCHEDULE_TASK);
	/* A closure inside raw::poll (namespace C), not raw::poll itself. */
	ASSERT_EQ(classify("_RNCNvNtNtNtCshmfeV12mFaw_5tokio7runtime4task3raw4poll0B9_", &tokio),
		  SS_TOKIO_NFNS);
	ASSERT_TRUE(tokio);
	/* Another crate's, and cut short anywhere: never a match, never a
	 * read past the end. */
	const char *full = "_RNvNtNtNtCshmfeV12mFaw_5tokio7runtime4task3raw4poll";
	char cut[80];

	ASSERT_EQ(classify(full, &tokio), SS_TOKIO_RAW_POLL);
	for (size_t n = 0; n < strlen(full); n++) {
		memcpy(cut, full, n);
		cut[n] = '\0';
		ASSERT_EQ(classify(cut, &tokio), SS_TOKIO_NFNS);
	}
	ASSERT_EQ(classify("_RNvNtNtNtCshmfeV12mFaw_5tokyo7runtime4task3raw4poll", &tokio),
		  SS_TOKIO_NFNS);
	ASSERT_FALSE(tokio);
	ASSERT_EQ(classify("_RNvNtNtNtCshmfeV12mFaw_99999tokio", &tokio), SS_TOKIO_NFNS);
	ASSERT_EQ(classify("", &tokio), SS_TOKIO_NFNS);
}

TEST(version_in_data)
{
	unsigned v[3] = { 0 };
	const char *s;

	s = "at /usr/share/cargo/registry/tokio-1.24.2/src/runtime/park.rs";
	ASSERT_TRUE(ss_tokio_version_in(s, strlen(s), v));
	ASSERT_EQ(v[0], 1);
	ASSERT_EQ(v[1], 24);
	ASSERT_EQ(v[2], 2);
	s = "tokio-util-0.7.4/src/x tokio-macros-1.7.0/src/y tokio-1.2/src/ tokio-1.51.0/src";
	ASSERT_FALSE(ss_tokio_version_in(s, strlen(s), v));	/* no "/" after src */
	s = "tokio-util-0.7.4/src/x tokio-1.51.0/src/lib.rs";
	ASSERT_TRUE(ss_tokio_version_in(s, strlen(s), v));
	ASSERT_EQ(v[1], 51);
	/* Cut anywhere: no read past the end. */
	s = "tokio-1.51.0/src/";
	for (size_t n = 0; n < strlen(s); n++)
		ASSERT_FALSE(ss_tokio_version_in(s, n, v));
}

static char *built(const char *name)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "../bin/%s", name);
	return test_built(rel);
}

/* Every site: inside the file, at a symbol's address translated through
 * an executable segment, sorted out of duplicates. */
static void check_sites(const char *path, const struct ss_tokio_syms *s)
{
	struct stat st;

	ASSERT_EQ(stat(path, &st), 0);
	for (unsigned f = 0; f < SS_TOKIO_NFNS; f++)
		for (unsigned i = 0; i < s->n[f]; i++) {
			ASSERT_LT(s->sites[f][i].offset, (__u64)st.st_size);
			ASSERT_NE(s->sites[f][i].addr, 0);
			if (i)	/* by address, each once */
				ASSERT_GT(s->sites[f][i].addr, s->sites[f][i - 1].addr);
		}
}

static void check_binary(const char *name)
{
	char *path = built(name);
	struct ss_tokio_syms s;

	ASSERT_EQ(ss_tokio_syms_read(path, &s), 0);
	ASSERT_TRUE(s.has_symtab);
	ASSERT_FALSE(s.v0);
	ASSERT_GT(s.tokio_symbols, 100);
	/* A future per monomorphization: the example's tasks, block_on's,
	 * the blocking pool's. */
	ASSERT_GE(s.n[SS_TOKIO_RAW_POLL], 3);
	ASSERT_GE(s.n[SS_TOKIO_RAW_SCHEDULE], 2);
	ASSERT_EQ(s.n[SS_TOKIO_SCHEDULE_TASK], 1);
	ASSERT_EQ(s.version[0], 1);	/* Debian 12's librust-tokio-dev */
	ASSERT_EQ(s.version[1], 24);
	ASSERT_TRUE(s.worker_name);
	check_sites(path, &s);
	ss_tokio_syms_free(&s);
	free(path);
}

TEST(release_build)
{
	check_binary("tokio-lifo");
}

TEST(fat_lto_build)
{
	check_binary("tokio-lifo-lto");
}

TEST(not_tokio_and_bad_files)
{
	char *path = built("lifo-stall");	/* C: no Tokio at all */
	struct ss_tokio_syms s;

	ASSERT_EQ(ss_tokio_syms_read(path, &s), 0);
	ASSERT_EQ(s.tokio_symbols, 0);
	ASSERT_FALSE(ss_tokio_seen(&s));
	for (unsigned f = 0; f < SS_TOKIO_NFNS; f++)
		ASSERT_EQ(s.n[f], 0);
	ss_tokio_syms_free(&s);
	free(path);

	ASSERT_EQ(ss_tokio_syms_read("/nonexistent", &s), -ENOENT);
	ASSERT_HAS(s.error, "No such file");
	ss_tokio_syms_free(&s);
	ASSERT_EQ(ss_tokio_syms_read_mem("#!/bin/sh\n", 10, &s), -ENOEXEC);
	ASSERT_STREQ(s.error, "not an ELF file");
	ss_tokio_syms_free(&s);
}

/* A stripped copy: no .symtab, so nothing to attach to, and it says so. */
TEST(stripped_build)
{
	char *path = built("tokio-lifo-lto"), *cmd, tmp[] = "/tmp/tokio-syms-XXXXXX";
	struct ss_tokio_syms s;
	int fd = mkstemp(tmp);

	ASSERT_TRUE(fd >= 0);
	close(fd);
	if (asprintf(&cmd, "strip -o %s %s", tmp, path) < 0)
		FAILF("out of memory");
	ASSERT_EQ(system(cmd), 0);
	ASSERT_EQ(ss_tokio_syms_read(tmp, &s), 0);
	ASSERT_FALSE(s.has_symtab);
	/* Still Tokio's, and which: from its data. */
	ASSERT_TRUE(ss_tokio_seen(&s));
	ASSERT_EQ(s.version[1], 24);
	ASSERT_EQ(s.n[SS_TOKIO_RAW_POLL], 0);
	ASSERT_EQ(s.n[SS_TOKIO_SCHEDULE_TASK], 0);
	ss_tokio_syms_free(&s);
	unlink(tmp);
	free(cmd);
	free(path);
}

/* A stripped copy with its symbols in a separate debug file, linked by
 * .gnu_debuglink next to it: elfutils finds it; the sites are the same
 * file offsets as the unstripped build's. */
TEST(stripped_with_a_debug_file)
{
	char *path = built("tokio-lifo-lto"), *cmd, dir[] = "/tmp/tokio-syms-XXXXXX";
	struct ss_tokio_syms full, s;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	if (asprintf(&cmd, "cd %s && objcopy --only-keep-debug %s t.debug && "
		     "strip -o t %s && objcopy --add-gnu-debuglink=t.debug t", dir, path, path) < 0)
		FAILF("out of memory");
	ASSERT_EQ(system(cmd), 0);
	free(cmd);
	ASSERT_EQ(ss_tokio_syms_read(path, &full), 0);
	if (asprintf(&cmd, "%s/t", dir) < 0)
		FAILF("out of memory");
	ASSERT_EQ(ss_tokio_syms_read(cmd, &s), 0);
	ASSERT_FALSE(s.has_symtab);
	ASSERT_TRUE(s.debug_file);
	for (unsigned f = 0; f < SS_TOKIO_NFNS; f++) {
		ASSERT_EQ(s.n[f], full.n[f]);
		for (unsigned i = 0; i < s.n[f]; i++)
			ASSERT_EQ(s.sites[f][i].offset, full.sites[f][i].offset);
	}
	ss_tokio_syms_free(&s);
	ss_tokio_syms_free(&full);
	free(cmd);
	if (asprintf(&cmd, "rm -rf %s", dir) < 0)
		FAILF("out of memory");
	ASSERT_EQ(system(cmd), 0);
	free(cmd);
	free(path);
}
