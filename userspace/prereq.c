/* SPDX-License-Identifier: MIT */
/*
 * What recording needs from the machine, checked — and prepared, where a
 * root tool can — before anything is loaded, so that a fresh machine
 * either works or gets one line naming the fix.
 *
 * Owns: the privileges (CAP_BPF, CAP_PERFMON; root), kernel BTF, tracefs
 * (mounted when missing: libbpf needs it to find the syscall tracepoints'
 * ids), the tracepoints the BPF programs attach to.  Does not own:
 * loading and attaching (record.c), which still report their own errors.
 *
 * Looked at and left alone, because they do not stand in the way here:
 *  - debugfs: only an older home of tracefs (debugfs/tracing).  libbpf
 *    uses it when it is there, so the check follows the path libbpf will
 *    use;
 *  - perf_event_paranoid: applies to unprivileged users only; with
 *    CAP_PERFMON it is bypassed;
 *  - RLIMIT_MEMLOCK: BPF memory is charged to the memory cgroup since
 *    Linux 5.11 (libbpf raises the limit itself on older kernels);
 *  - a read-only /sys: a mount on top of /sys/kernel/tracing works on a
 *    read-only sysfs (tested: tests/scenario/fresh_machine.sh);
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "prereq.h"

#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"
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
 * both), and for tracefs, CAP_SYS_ADMIN to mount it. */
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

/*
 * tracefs where libbpf looks for it: debugfs/tracing if that exists
 * (libbpf's own test), else /sys/kernel/tracing.  Mounted there when its
 * syscall events are missing; quiet if it is there already.
 */
static int prepare_tracefs(void)
{
	const char *dir = access(DEBUGFS_TRACING, F_OK) ? TRACEFS : DEBUGFS_TRACING;
	char events[64];

	snprintf(events, sizeof(events), "%s/events", dir);
	if (!is_dir(events)) {
		if (!is_dir(dir)) {
			fprintf(stderr, "stallscope: %s does not exist: this kernel has no "
					"tracefs (build it with CONFIG_TRACING=y)\n", dir);
			return -ENOENT;
		}
		if (mount("tracefs", dir, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=700")) {
			int err = errno;
			fprintf(stderr, "stallscope: tracefs is not mounted and mounting it "
					"failed (%s): run `mount -t tracefs tracefs %s` as "
					"root, then try again\n", strerror(err), dir);
			return -err;
		}
		fprintf(stderr, "stallscope: tracefs was not mounted: mounted it at %s\n",
			dir);
	}
	snprintf(events, sizeof(events), "%s/events/syscalls", dir);
	if (!is_dir(events)) {
		fprintf(stderr, "stallscope: %s is missing: this kernel has no syscall "
				"tracepoints (build it with CONFIG_FTRACE_SYSCALLS=y)\n",
			events);
		return -ENOENT;
	}
	return 0;
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
	return prepare_tracefs();
}
