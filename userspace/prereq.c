/* SPDX-License-Identifier: MIT */
/*
 * What recording needs from the machine, checked before anything is
 * loaded, so that a fresh machine either works or gets one line naming
 * the fix.
 *
 * Owns: the privileges (CAP_BPF and CAP_PERFMON, which root has; a
 * container may grant just those), kernel BTF, kernel lockdown.  Does not
 * own: loading and attaching (recorder.c), which still report their own
 * errors.
 *
 * Looked at and found not to stand in the way:
 *  - tracefs (and debugfs, its older home): not needed.  Every program is
 *    a tp_btf tracepoint (syscalls through raw_syscalls), a uprobe_multi
 *    link or an iterator, none of which looks anything up in tracefs; a
 *    fresh machine has it unmounted, and stallscope leaves it so
 *    (tests/scenario/fresh_machine.sh);
 *  - perf_event_paranoid: applies to unprivileged users only; with
 *    CAP_PERFMON it is bypassed;
 *  - RLIMIT_MEMLOCK: BPF memory is charged to the memory cgroup since
 *    Linux 5.11 (libbpf raises the limit itself on older kernels); the
 *    event rings are pre-faulted, not locked;
 *  - a read-only /sys: nothing is written there;
 *  - kernel lockdown: its integrity mode allows tracing; confidentiality
 *    forbids reading kernel memory, which no BPF tracer can do without —
 *    a clear error when securityfs shows it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "prereq.h"

#define BTF "/sys/kernel/btf/vmlinux"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* Lockdown's confidentiality mode, if securityfs shows it. */
static bool locked_down(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strstr(buf, "[confidentiality]") != NULL;
}

/* What the programs need: BPF and perf events (CAP_SYS_ADMIN covers
 * both). */
static int check_privileges(const char *cmd)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	if (syscall(SYS_capget, &h, d))
		d[0].effective = d[1].effective = geteuid() == 0 ? ~0U : 0;
	if (has_cap(d, CAP_SYS_ADMIN) ||
	    (has_cap(d, CAP_BPF) && has_cap(d, CAP_PERFMON)))
		return 0;
	if (geteuid() != 0)
		fprintf(stderr, "stallscope: %s needs root to load BPF programs: "
				"run it with sudo\n", cmd);
	else
		fprintf(stderr, "stallscope: %s needs CAP_BPF and CAP_PERFMON (or "
				"CAP_SYS_ADMIN), which this root process lacks: run it "
				"with them (e.g. in a container, --cap-add BPF --cap-add "
				"PERFMON)\n", cmd);
	return -EPERM;
}

int ss_prereq_prepare(const char *cmd)
{
	int err;

	if ((err = check_privileges(cmd)))
		return err;
	if (access(BTF, R_OK)) {
		if (!is_dir("/sys/kernel"))
			fprintf(stderr, "stallscope: /sys is not mounted: run `mount -t "
					"sysfs sysfs /sys` as root, then try again\n");
		else
			fprintf(stderr, "stallscope: " BTF " is missing: this kernel has "
					"no BTF (build it with CONFIG_DEBUG_INFO_BTF=y)\n");
		return -ENOENT;
	}
	if (locked_down()) {
		fprintf(stderr, "stallscope: the kernel is locked down (confidentiality): "
				"BPF may not read kernel memory; boot with lockdown=integrity "
				"(or none) to trace\n");
		return -EPERM;
	}
	return 0;
}
