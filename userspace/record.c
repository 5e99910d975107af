/* SPDX-License-Identifier: MIT */
/*
 * stallscope record: load the BPF programs, attach them to one target
 * process, and stream its events into a trace file.
 *
 *   stallscope record [-o FILE] [--duration S] [--kernel-only] [--no-preload]
 *                     (-p PID | -- CMD [ARGS...])
 *
 * Owns: the libbpf lifecycle (open -> set rodata -> load -> attach -> poll,
 * one cleanup path), starting or finding the target, when to stop, the
 * lost-event accounting.  Does not own: the file format (trace.c) or the
 * events' meaning (bpf/record.h).
 *
 * Starting a command, in order:
 *  1. fork; the child blocks reading a pipe before it execs;
 *  2. load the programs with the child's pid as the target tgid and attach
 *     the USDT probes to the command's executable (uprobes live on the
 *     file, filtered by pid, so they are in place before it runs);
 *  3. release the child; a CLOEXEC pipe tells whether the exec worked;
 *  4. shortly after the exec (or at exit, if sooner) snapshot its
 *     mappings and write the file header; records that arrived before
 *     wait in memory.
 * Stopping (target exit, Ctrl-C/SIGTERM, --duration): drain the ring,
 * account lost events, write the trailer.  A command we started is sent
 * SIGTERM (then SIGKILL) when we stop first.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "procfs.h"
#include "stallscope.skel.h"
#include "target.h"
#include "trace.h"

#define DEFAULT_OUT "stallscope.trace"
#define DEFAULT_RING_BYTES (16U << 20)
#define HEADER_DELAY_NS 20000000ULL	/* after exec: let ld.so map libraries */
#define LOST_CHECK_NS 100000000ULL

struct probe_def {
	const char *name;
	__u32 type;
};

/* Every wsrt probe (runtime/wsrt_probes.h), by record type. */
static const struct probe_def wsrt_probes[] = {
	{ "worker_start", SS_WSRT_WORKER_START },
	{ "worker_stop", SS_WSRT_WORKER_STOP },
	{ "spawn", SS_WSRT_SPAWN },
	{ "notify", SS_WSRT_NOTIFY },
	{ "poll_start", SS_WSRT_POLL_START },
	{ "poll_end", SS_WSRT_POLL_END },
	{ "steal", SS_WSRT_STEAL },
	{ "park", SS_WSRT_PARK },
	{ "unpark", SS_WSRT_UNPARK },
	{ "wake_worker", SS_WSRT_WAKE_WORKER },
	{ "inject_push", SS_WSRT_INJECT_PUSH },
	{ "inject_pop", SS_WSRT_INJECT_POP },
	{ "overflow", SS_WSRT_OVERFLOW },
	{ "search_start", SS_WSRT_SEARCH_START },
	{ "search_end", SS_WSRT_SEARCH_END },
	{ "task_cancel", SS_WSRT_TASK_CANCEL },
	{ "driver_poll", SS_WSRT_DRIVER_POLL },
	{ "io_register", SS_WSRT_IO_REGISTER },
	{ "io_ready", SS_WSRT_IO_READY },
	{ "timer_fire", SS_WSRT_TIMER_FIRE },
};

/* Every probe of the preload shim (preload/shim_probes.h), by record type. */
static const struct probe_def shim_probes[] = {
	{ "start", SS_SHIM_START },
	{ "park_enter", SS_SHIM_PARK_ENTER },
	{ "park_exit", SS_SHIM_PARK_EXIT },
	{ "futex_wake", SS_SHIM_FUTEX_WAKE },
	{ "thread_name", SS_SHIM_THREAD_NAME },
};
#define SHIM_NAME "libstallscope-preload.so"
#define N_PROBES(defs) ((unsigned)(sizeof(defs) / sizeof((defs)[0])))

struct rec {
	/* options */
	const char *out_path;
	double duration_s;
	bool kernel_only, no_preload, verbose;
	unsigned ring_bytes;
	pid_t pid;		/* -p */
	char **cmd;		/* -- CMD */

	/* state */
	struct ss_target t;
	struct stallscope_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link **links;
	unsigned nlinks, caplinks;
	struct ss_trace_writer *w;
	struct ss_record *pending;	/* before the header is written */
	size_t npending, cappending;
	__u64 events, lost;
	__u64 *lost_seen;		/* per CPU */
	int ncpus;
	int err;			/* first write error */
	__u64 start_ns, start_real_ns, exec_ns;
	struct ss_trace_meta meta;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static __u64 mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static __u64 real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void die_usage(void)
{
	fprintf(stderr,
		"usage: stallscope record [-o FILE] [--duration S] [--kernel-only] [--no-preload]\n"
		"                         (-p PID | -- CMD [ARGS...])\n"
		"  -o FILE         the trace file (default " DEFAULT_OUT ")\n"
		"  --duration S    stop after S seconds (a started CMD is then terminated)\n"
		"  --kernel-only   kernel events only, as for any unmodified binary\n"
		"  --no-preload    start CMD without the preload shim\n"
		"  -p PID          attach to a running process\n"
		"  -v              show libbpf's messages\n");
}

static bool verbose_libbpf;
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG || (!verbose_libbpf && level == LIBBPF_INFO))
		return 0;
	/* USDT lookups on binaries without probes warn: only with -v. */
	if (!verbose_libbpf && level == LIBBPF_WARN && strstr(fmt, "usdt"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ---- records ----------------------------------------------------------------------- */

static void emit(struct rec *r, const struct ss_record *rec)
{
	if (r->w) {
		int err = ss_trace_write(r->w, rec, 1);
		if (err && !r->err)
			r->err = err;
		return;
	}
	if (r->npending == r->cappending) {
		size_t nc = r->cappending ? 2 * r->cappending : 4096;
		struct ss_record *np = realloc(r->pending, nc * sizeof(*np));
		if (!np) {
			r->err = r->err ? r->err : -ENOMEM;
			return;
		}
		r->pending = np;
		r->cappending = nc;
	}
	r->pending[r->npending++] = *rec;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct rec *r = ctx;

	if (size < sizeof(struct ss_record))
		return 0;
	r->events++;
	emit(r, data);
	return 0;
}

/* Turns the BPF per-CPU lost counters into SS_LOST records (deltas). */
static void account_lost(struct rec *r)
{
	__u32 key = SS_COUNTER_LOST;
	__u64 vals[r->ncpus];

	if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.counters), &key, vals))
		return;
	for (int c = 0; c < r->ncpus; c++) {
		if (vals[c] <= r->lost_seen[c])
			continue;
		struct ss_record rec = { .ts = mono_ns(), .type = SS_LOST,
					 .cpu = (__u32)c };
		rec.args[0] = vals[c] - r->lost_seen[c];
		r->lost += rec.args[0];
		r->lost_seen[c] = vals[c];
		emit(r, &rec);
	}
}

static void thread_at_attach(void *arg, int tid, const char *comm)
{
	struct ss_record rec = { .ts = mono_ns(), .type = SS_THREAD_AT_ATTACH,
				 .tid = (__u32)tid };
	strncpy((char *)rec.args, comm, 16);
	emit(arg, &rec);
}

static void seed_socket(void *arg, unsigned long long ino)
{
	struct rec *r = arg;
	__u64 key = ino;
	__u32 one = 1;

	bpf_map_update_elem(bpf_map__fd(r->skel->maps.socks), &key, &one, BPF_ANY);
}

/* Worker threads by name: wsrt's and Tokio's defaults. */
static void count_worker(void *arg, int tid, const char *comm)
{
	(void)tid;
	if (!strncmp(comm, "wsrt-w", 6) || !strncmp(comm, "tokio-runtime-w", 15))
		(*(__u32 *)arg)++;
}

/* ---- the header ------------------------------------------------------------------------ */

static int write_header(struct rec *r)
{
	struct ss_trace_meta *m = &r->meta;
	struct utsname u;
	char comm[32] = "";
	int err;

	uname(&u);
	snprintf(m->host, sizeof(m->host), "%s", u.nodename);
	snprintf(m->kernel, sizeof(m->kernel), "%s", u.release);
	snprintf(m->clock, sizeof(m->clock), "CLOCK_MONOTONIC");
	snprintf(m->recorder, sizeof(m->recorder), "stallscope %s", SS_VERSION);
	if (ss_proc_read_string(r->t.pid, "comm", comm, sizeof(comm)) > 0)
		comm[strcspn(comm, "\n")] = '\0';
	snprintf(m->comm, sizeof(m->comm), "%.16s", comm);
	m->start_mono_ns = r->start_ns;
	m->start_realtime_ns = r->start_real_ns;
	m->pid = (__u32)r->t.pid;
	m->ring_bytes = r->ring_bytes;
	/* Known if the runtime has started its workers by now (0: unknown). */
	m->workers = 0;
	ss_proc_threads(r->t.pid, count_worker, &m->workers);
	m->flags = r->kernel_only ? SS_FILE_KERNEL_ONLY : 0;
	ss_proc_mappings(r->t.pid, &m->mappings, &m->nmappings);

	err = ss_trace_create(r->out_path, m, &r->w);
	if (err) {
		fprintf(stderr, "stallscope: cannot create %s: %s\n", r->out_path,
			strerror(-err));
		return err;
	}
	/* Through sudo: the file belongs to whoever asked for it. */
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	if (su && sg && geteuid() == 0 &&
	    fchown(ss_trace_fd(r->w), (uid_t)atoi(su), (gid_t)atoi(sg)))
		fprintf(stderr, "stallscope: cannot give %s to uid %s: %s\n",
			r->out_path, su, strerror(errno));
	if (r->npending)
		err = ss_trace_write(r->w, r->pending, r->npending);
	free(r->pending);
	r->pending = NULL;
	r->npending = r->cappending = 0;
	ss_proc_threads(r->t.pid, thread_at_attach, r);
	return err;
}

/* ---- attaching ------------------------------------------------------------------------------ */

static int add_link(struct rec *r, struct bpf_link *l)
{
	if (r->nlinks == r->caplinks) {
		unsigned nc = r->caplinks ? 2 * r->caplinks : 32;
		struct bpf_link **nl = realloc(r->links, nc * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		r->links = nl;
		r->caplinks = nc;
	}
	r->links[r->nlinks++] = l;
	return 0;
}

/* Attaches every probe of the set found in path; returns how many. */
static unsigned attach_probes(struct rec *r, const char *path,
			      const char *provider,
			      const struct probe_def *defs, unsigned n)
{
	unsigned attached = 0;

	for (unsigned i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_usdt_opts, opts, .usdt_cookie = defs[i].type);
		struct bpf_link *l = bpf_program__attach_usdt(
			r->skel->progs.handle_usdt, r->t.pid, path, provider,
			defs[i].name, &opts);
		if (!l)
			continue;	/* not in this binary */
		if (add_link(r, l)) {
			bpf_link__destroy(l);
			break;
		}
		attached++;
	}
	return attached;
}

static bool is_shim(const char *path)
{
	const char *base = strrchr(path, '/');

	return !strcmp(base ? base + 1 : path, SHIM_NAME);
}

/* The runtime's probes in the target's executable and libraries; the
 * preload shim's in the shim the target runs with. */
static void attach_usdt(struct rec *r, const char *exe)
{
	unsigned n = attach_probes(r, exe, "wsrt", wsrt_probes,
				   N_PROBES(wsrt_probes));
	unsigned nshim = 0;
	char *shim = NULL;

	if (!r->t.started) {
		/* A running process: also its libraries (a libwsrt.so, the
		 * shim if it was started with it). */
		struct ss_mapping *m;
		unsigned nm;
		if (!ss_proc_mappings(r->t.pid, &m, &nm)) {
			for (unsigned i = 0; i < nm; i++) {
				bool seen = !strcmp(m[i].path, exe);
				for (unsigned k = 0; k < i && !seen; k++)
					seen = !strcmp(m[k].path, m[i].path);
				if (seen)
					continue;
				if (is_shim(m[i].path))
					nshim += attach_probes(r, m[i].path, "stallscope",
							       shim_probes,
							       N_PROBES(shim_probes));
				else
					n += attach_probes(r, m[i].path, "wsrt",
							   wsrt_probes,
							   N_PROBES(wsrt_probes));
			}
			free(m);
		}
	} else if (!r->no_preload) {
		/* The very file target.c preloads: uprobes live on the
		 * file, so they are in place before the target maps it. */
		shim = ss_shim_path();
		if (!shim)
			fprintf(stderr,
				"stallscope: no preload shim next to this binary (../lib/" SHIM_NAME
				"): recording without it\n");
		else if (!(nshim = attach_probes(r, shim, "stallscope", shim_probes,
						 N_PROBES(shim_probes))))
			fprintf(stderr,
				"stallscope: %s has no stallscope probes: recording without them\n",
				shim);
		free(shim);
	}
	if (!n)
		fprintf(stderr,
			"stallscope: %s has no wsrt probes: recording %s only\n",
			exe, nshim ? "the preload shim's and the kernel's events" :
				     "kernel events");
}

/* ---- the command ------------------------------------------------------------------------------------ */

static int parse_args(struct rec *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ "kernel-only", no_argument, NULL, 'k' },
		{ "no-preload", no_argument, NULL, 'n' },
		{ "pid", required_argument, NULL, 'p' },
		{ "ring-kb", required_argument, NULL, 'r' },	/* hidden: tests */
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:p:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			r->out_path = optarg;
			break;
		case 'd':
			r->duration_s = strtod(optarg, &end);
			if (*end || !(r->duration_s > 0) || r->duration_s > 1e7) {
				fprintf(stderr, "stallscope: --duration: want seconds > 0: %s\n", optarg);
				return -EINVAL;
			}
			break;
		case 'k':
			r->kernel_only = true;
			break;
		case 'n':
			r->no_preload = true;
			break;
		case 'p': {
			long v = strtol(optarg, &end, 10);
			if (*end || v <= 0 || v > INT_MAX) {
				fprintf(stderr, "stallscope: -p: not a pid: %s\n", optarg);
				return -EINVAL;
			}
			r->pid = (pid_t)v;
			break;
		}
		case 'r': {
			long v = strtol(optarg, &end, 10);
			/* A power of two, at least a page: the ring's rules. */
			if (*end || v < 4 || v > (1 << 20) || (v & (v - 1))) {
				fprintf(stderr, "stallscope: --ring-kb: want a power of two >= 4: %s\n", optarg);
				return -EINVAL;
			}
			r->ring_bytes = (unsigned)v * 1024;
			break;
		}
		case 'v':
			r->verbose = true;
			break;
		case 'h':
			die_usage();
			return 1;
		default:
			die_usage();
			return -EINVAL;
		}
	}
	if (optind < argc)
		r->cmd = argv + optind;
	if (!!r->pid == !!r->cmd) {
		fprintf(stderr, "stallscope: record: give either -p PID or -- CMD [ARGS...]\n");
		die_usage();
		return -EINVAL;
	}
	return 0;
}

static int check_environment(struct rec *r)
{
	if (geteuid() != 0) {
		fprintf(stderr, "stallscope: record needs root to load BPF programs: run it with sudo\n");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "stallscope: /sys/kernel/btf/vmlinux is missing: this kernel has no BTF "
				"(build it with CONFIG_DEBUG_INFO_BTF=y)\n");
		return -ENOENT;
	}
	if (r->pid && kill(r->pid, 0) && errno == ESRCH) {
		fprintf(stderr, "stallscope: no process with pid %d\n", (int)r->pid);
		return -ESRCH;
	}
	return 0;
}

int ss_cmd_record(int argc, char **argv)
{
	struct rec r = { .out_path = DEFAULT_OUT, .ring_bytes = DEFAULT_RING_BYTES,
			 .t = { .pidfd = -1, .go_fd = -1, .exec_fd = -1, .exit_status = -1 } };
	int err, ret = 1;
	char *exe = NULL;
	__u32 stop_reason = 0;

	err = parse_args(&r, argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	if (check_environment(&r))
		return 1;
	verbose_libbpf = r.verbose;
	libbpf_set_print(libbpf_print);

	if (r.cmd) {
		exe = ss_find_in_path(r.cmd[0]);
		if (!exe) {
			fprintf(stderr, "stallscope: %s: command not found\n", r.cmd[0]);
			return 1;
		}
		if ((err = ss_target_start(&r.t, r.cmd, !r.no_preload))) {
			fprintf(stderr, "stallscope: cannot start %s: %s\n", r.cmd[0], strerror(-err));
			goto out;
		}
	} else {
		char link[64], buf[PATH_MAX];
		if (ss_target_attach(&r.t, r.pid)) {
			fprintf(stderr, "stallscope: no process with pid %d\n", (int)r.pid);
			goto out;
		}
		snprintf(link, sizeof(link), "/proc/%d/exe", (int)r.pid);
		ssize_t n = readlink(link, buf, sizeof(buf) - 1);
		if (n <= 0) {
			fprintf(stderr, "stallscope: cannot read %s: %s\n", link, strerror(errno));
			goto out;
		}
		buf[n] = '\0';
		exe = strdup(buf);
	}

	r.ncpus = libbpf_num_possible_cpus();
	r.lost_seen = calloc((size_t)(r.ncpus > 0 ? r.ncpus : 1), sizeof(*r.lost_seen));
	r.skel = stallscope_bpf__open();
	if (!r.skel || r.ncpus <= 0 || !r.lost_seen) {
		fprintf(stderr, "stallscope: cannot open the BPF programs: %s\n", strerror(errno));
		goto out;
	}
	r.skel->rodata->targ_tgid = (__u32)r.t.pid;
	bpf_map__set_max_entries(r.skel->maps.events, r.ring_bytes);
	bpf_program__set_autoattach(r.skel->progs.handle_usdt, false);
	if ((err = stallscope_bpf__load(r.skel))) {
		fprintf(stderr, "stallscope: cannot load the BPF programs: %s\n", strerror(-err));
		goto out;
	}
	if (!r.t.started)
		ss_proc_epoll_sockets(r.t.pid, seed_socket, &r);
	if ((err = stallscope_bpf__attach(r.skel))) {
		fprintf(stderr, "stallscope: cannot attach the BPF programs: %s\n", strerror(-err));
		goto out;
	}
	if (!r.kernel_only)
		attach_usdt(&r, exe);
	r.rb = ring_buffer__new(bpf_map__fd(r.skel->maps.events), on_event, &r, NULL);
	if (!r.rb) {
		fprintf(stderr, "stallscope: cannot open the ring buffer: %s\n", strerror(errno));
		goto out;
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r.start_ns = mono_ns();
	r.start_real_ns = real_ns();

	if (r.t.started) {
		/* Step 3: go, and learn whether the exec worked. */
		if ((err = ss_target_release(&r.t))) {
			fprintf(stderr, "stallscope: cannot run %s: %s\n", r.cmd[0],
				strerror(-err));
			goto out;
		}
		r.exec_ns = mono_ns();
		for (char **a = r.cmd; *a; a++)
			r.meta.argc++;
		r.meta.argv = r.cmd;
	} else {
		char cmdline[8192];
		int n = ss_proc_read_string(r.t.pid, "cmdline", cmdline, sizeof(cmdline));
		static char *args[256];
		unsigned argc2 = 0;
		for (int i = 0; i < n && argc2 < 255; i += (int)strlen(cmdline + i) + 1)
			args[argc2++] = strdup(cmdline + i);
		r.meta.argv = args;
		r.meta.argc = argc2;
		if ((err = write_header(&r)))
			goto out;
	}

	__u64 last_lost = mono_ns();
	__u64 deadline = r.duration_s > 0 ?
		r.start_ns + (__u64)(r.duration_s * 1e9) : UINT64_MAX;
	for (;;) {
		/* Woken early only when the ring fills (bpf submit()); else
		 * this is a 50 ms timer, and consume drains what came. */
		err = ring_buffer__poll(r.rb, 50);
		if (err >= 0)
			err = ring_buffer__consume(r.rb);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "stallscope: reading the ring buffer: %s\n", strerror(-err));
			stop_reason = 4;
			break;
		}
		__u64 now = mono_ns();
		if (now - last_lost >= LOST_CHECK_NS) {
			account_lost(&r);
			last_lost = now;
		}
		if (!r.w && r.t.started && now - r.exec_ns >= HEADER_DELAY_NS &&
		    (err = write_header(&r))) {
			stop_reason = 4;
			break;
		}
		if (r.err) {
			fprintf(stderr, "stallscope: writing %s: %s\n", r.out_path, strerror(-r.err));
			stop_reason = 4;
			break;
		}
		if (stop_signal) {
			stop_reason = 2;
			break;
		}
		if (now >= deadline) {
			stop_reason = 3;
			break;
		}
		if (!ss_target_alive(&r.t)) {
			stop_reason = 1;
			break;
		}
	}
	/* Everything the target did up to now is in the ring: drain it. */
	ring_buffer__consume(r.rb);
	account_lost(&r);
	if (!r.w && write_header(&r))
		goto out;
	ss_target_stop(&r.t);
	__u64 end = mono_ns();
	if ((err = ss_trace_finish(r.w, r.lost, end, stop_reason,
				   r.t.exited ? r.t.exit_status : -1))) {
		r.w = NULL;
		fprintf(stderr, "stallscope: writing %s: %s\n", r.out_path, strerror(-err));
		goto out;
	}
	r.w = NULL;
	fprintf(stderr, "stallscope: %llu events, %llu lost, %.2f s, written to %s\n",
		(unsigned long long)r.events, (unsigned long long)r.lost,
		(double)(end - r.start_ns) / 1e9, r.out_path);
	ret = stop_reason == 4 ? 1 : 0;
out:
	if (r.w)
		ss_trace_abort(r.w);
	ss_target_close(&r.t);
	for (unsigned i = 0; i < r.nlinks; i++)
		bpf_link__destroy(r.links[i]);
	free(r.links);
	ring_buffer__free(r.rb);
	stallscope_bpf__destroy(r.skel);
	free(r.pending);
	free(r.lost_seen);
	free(r.meta.mappings);
	if (!r.t.started && r.meta.argv)
		for (unsigned i = 0; i < r.meta.argc; i++)
			free(r.meta.argv[i]);
	free(exe);
	return ret;
}
