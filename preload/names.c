/* SPDX-License-Identifier: MIT */
/*
 * Thread names: pthread_setname_np and prctl(PR_SET_NAME).  Names are how
 * a tracer tells a foreign runtime's workers from its other threads
 * (Tokio's are `tokio-runtime-w`), so every rename fires thread_name with
 * the name as the kernel keeps it (15 bytes and a NUL).
 *
 * Owns: the two wrappers.  prctl's other options pass straight through
 * with all four argument words, as glibc's prctl() reads them.
 *
 * The name is read only after the real call succeeded, and only as far as
 * the kernel (or glibc's strlen) read it: a bad pointer still gets EFAULT
 * from the kernel, never a crash in the shim.  Not a park: no guard, no
 * faults.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

union shim_name {
	char c[16];
	uint64_t w[2];
};

/* As the kernel copies a comm: at most 15 bytes, NUL padded. */
static void name_copy(union shim_name *n, const char *name)
{
	for (int i = 0; i < 15 && name[i]; i++)
		n->c[i] = name[i];
}

SHIM_EXPORT int pthread_setname_np(pthread_t thread, const char *name)
{
	__typeof__(shim_real.setname) f;
	union shim_name n = { .w = { 0, 0 } };
	int r, saved;
	pid_t tid;

	shim_ensure();
	f = SHIM_REAL(setname);
	if (!f)
		return ENOSYS;	/* no such function in this libc */
	r = f(thread, name);
	saved = errno;
	shim_count(SHIM_STAT_NAME);
	if (r == 0)
		name_copy(&n, name);
	/* Another thread's tid isn't known cheaply: the kernel's own rename
	 * record (task_rename) names it. */
	tid = pthread_equal(thread, pthread_self()) ? gettid() : 0;
	SHIM_PROBE_THREAD_NAME(n.w[0], n.w[1], tid, -r);
	errno = saved;
	return r;
}

SHIM_EXPORT int prctl(int option, ...)
{
	__typeof__(shim_real.prctl) f;
	unsigned long a2, a3, a4, a5;
	va_list ap;
	int r;

	va_start(ap, option);
	a2 = va_arg(ap, unsigned long);
	a3 = va_arg(ap, unsigned long);
	a4 = va_arg(ap, unsigned long);
	a5 = va_arg(ap, unsigned long);
	va_end(ap);
	shim_ensure();
	f = SHIM_REAL(prctl);
	if (f)
		r = f(option, a2, a3, a4, a5);
	else
		r = (int)shim_syscall_errno(SYS_prctl, option, (long)a2,
					    (long)a3, (long)a4, (long)a5, 0);
	if (option == PR_SET_NAME) {
		union shim_name n = { .w = { 0, 0 } };
		int saved = errno;

		shim_count(SHIM_STAT_NAME);
		if (r == 0)
			name_copy(&n, (const char *)a2);
		SHIM_PROBE_THREAD_NAME(n.w[0], n.w[1], gettid(),
				       r == 0 ? 0 : -saved);
		errno = saved;
	}
	return r;
}
