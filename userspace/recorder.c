/* SPDX-License-Identifier: MIT */
/*
 * The recorder (recorder.h, recorder_int.h): load the BPF programs, attach
 * them to one target process, and stream its events to a sink — a trace
 * file for `record` (cmds/record.c), the screen for `live` (viz/live.c).
 * This file: the life cycle and the trace header.
 *
 * Owns: the libbpf lifecycle (open -> set rodata -> load -> attach -> poll,
 * one cleanup path), starting or finding the target, the trace header's
 * contents, the lost-event accounting.  Does not own: the file format
 * (trace_write.c) or the events' meaning (bpf/record.h).
 *
 * Starting a command, in order:
 *  1. fork; the child blocks reading a pipe before it execs;
 *  2. load the programs with the child's pid as the target tgid and attach
 *     the USDT probes to the command's executable and the shim: one
 *     uprobe_multi link per file (uprobes live on the file, filtered by
 *     pid, so they are in place before it runs);
 *  3. release the child; a CLOEXEC pipe tells whether the exec worked;
 *  4. shortly after the exec (or at exit, if sooner) snapshot its
 *     mappings and hand the header to the sink (on_start); records that
 *     arrived before wait in memory.
 * Stopping (target exit, Ctrl-C/SIGTERM, --duration): drain the ring,
 * account lost events; a command we started is sent SIGTERM (then
 * SIGKILL) when we stop first.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cli.h"
#include "outfile.h"
#include "prereq.h"
#include "procfs.h"
#include "recorder_int.h"
#include "ringdec.h"
#include "ringrec.h"
#include "ringreg.h"
#include "bpf/ring.h"
#include "self.h"
#include "stallscope.skel.h"
#include "target.h"
#include "trace.h"
#include "uprobe_multi.h"

/* One program's link (prog, kept in *link for the skeleton to destroy). */
static int rec_attach_prog(struct bpf_program *prog, struct bpf_link **link)
{
	*link = bpf_program__attach(prog);
	return *link ? 0 : -errno;
}

static bool verbose_libbpf;
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG || (!verbose_libbpf && level == LIBBPF_INFO))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ---- the header ------------------------------------------------------------------------ */

/* Fills the header, hands it to the sink, then the records held back. */
int rec_start_sink(struct ss_recorder *r)
{
	struct ss_trace_meta *m = &r->meta;
	struct utsname u;
	char comm[32] = "";
	bool waited = rec_holds_in_ring(r);
	int err;

	if (r->started_sink || r->start_err)
		return r->start_err;
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
	m->ring_bytes = r->o.ring_bytes;
	/* Known if the runtime has started its workers by now (0: unknown). */
	m->workers = 0;
	ss_proc_threads(r->t.pid, rec_count_worker, &m->workers);
	m->flags = (r->o.kernel_only ? SS_FILE_KERNEL_ONLY : 0) |
		   (r->runtime_probes ? SS_FILE_RUNTIME_PROBES : 0) |
		   (r->shim_parks ? SS_FILE_SHIM_PARKS : 0) |
		   (r->sleep_parks ? SS_FILE_SLEEP_PARKS : 0) |
		   (r->ring_pieces ? SS_FILE_RING_PIECES : 0) |
		   (r->o.no_readiness ? SS_FILE_NO_READINESS : 0);
	ss_proc_mappings(r->t.pid, &m->mappings, &m->nmappings);

	if ((err = r->o.on_start(r->o.arg, m))) {
		r->start_err = err;
		free(r->pending);
		r->pending = NULL;
		r->npending = r->cappending = 0;
		return err;
	}
	r->started_sink = true;
	if (r->tokio_rec.type) {	/* when recording began: before Tokio's records */
		r->tokio_rec.ts = r->start_ns;
		rec_emit(r, &r->tokio_rec);
	}
	if (r->npending && (err = r->o.on_records(r->o.arg, r->pending, r->npending)))
		r->err = r->err ? r->err : err;
	free(r->pending);
	r->pending = NULL;
	r->npending = r->cappending = 0;
	/* The threads as they are now: after the older events that waited
	 * for the header in the ring buffer, if any did (rec_attach_records;
	 * taken now, for the names then and a target that may be gone when
	 * a recorder behind its load has read that far). */
	if (waited)
		r->attach_prod = rec_ring_pos(r, 1);
	ss_proc_threads(r->t.pid, waited ? rec_hold_thread_at_attach : rec_thread_at_attach, r);
	return r->err;
}


/* ---- the recorder ------------------------------------------------------------------------------ */

/*
 * The recorder runs at the lowest real-time priority: it sleeps nearly
 * all the time, and when it wakes (its 5-15 ms pull, or 2 MiB waiting in
 * the ring buffer) it must get a CPU at once even when the target keeps
 * every CPU busy — an ordinary process waited behind busy workers long
 * enough for 64 MiB to fill (a scheduler benchmark at 30 million events
 * a second).  Losing events is worse than taking the CPU time they cost
 * from the target, which is what the benchmarks count.  Its children
 * never inherit it (SCHED_RESET_ON_FORK; the target is forked before).
 * Best effort: without the privilege it stays an ordinary process.
 * Only while it records: ss_recorder_free makes the thread ordinary again
 * (demo and live analyze afterwards).
 */
bool rec_go_real_time(bool on)
{
	struct sched_param sp = { .sched_priority = on ? 1 : 0 };

	return !sched_setscheduler(0, (on ? SCHED_FIFO : SCHED_OTHER) |
					      SCHED_RESET_ON_FORK, &sp);
}

void rec_error(struct ss_recorder *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}

void rec_warn(struct ss_recorder *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!r->o.on_warning)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->o.on_warning(r->o.arg, msg);
}

const char *ss_recorder_error(const struct ss_recorder *r)
{
	return r->msg;
}

/* The machine's side (privileges, BTF, lockdown) is prereq.c's, checked by
 * the commands before they open a recorder. */
static int check_environment(struct ss_recorder *r, const struct ss_recorder_opts *o)
{
	if (o->pid && kill(o->pid, 0) && errno == ESRCH) {
		rec_error(r, "no process with pid %d", (int)o->pid);
		return -ESRCH;
	}
	return 0;
}

/*
 * Whether the rings' drains copy a claim whole (bpf/ring_drain.bpf.h): the
 * kernel has the dynptr copies of user memory (Linux 6.16), and
 * STALLSCOPE_RING_COPY=pieces (for tests of the other way) does not ask
 * for 2^k-slot pieces.  ~9 ms to read the kernel's BTF.
 */
static bool kernel_copies_whole(void)
{
	const char *env = getenv("STALLSCOPE_RING_COPY");
	struct btf *vm;
	bool yes;

	if (env && !strcmp(env, "pieces"))
		return false;
	vm = btf__load_vmlinux_btf();
	if (!vm)
		return false;
	yes = btf__find_by_name_kind(vm, "bpf_probe_read_user_dynptr", BTF_KIND_FUNC) > 0 &&
	      btf__find_by_name_kind(vm, "bpf_copy_from_user_task_dynptr", BTF_KIND_FUNC) > 0;
	btf__free(vm);
	return yes;
}

/*
 * The ring buffer's first lap, before the target runs: warm_ring (BPF)
 * writes each of its pages once and the consumer reads each once, so
 * the page faults of the first lap (the hypervisor's and the recorder's)
 * are not paid by the target's threads while they copy their rings out.
 */
static void rec_warm_ring(struct ss_recorder *r)
{
	int fd = bpf_program__fd(r->skel->progs.warm_ring);
	__u64 want = (__u64)r->o.ring_bytes + SS_RING_WARM_BYTES, done = 0;

	/* Each run writes at most half the ring buffer, a record of
	 * SS_RING_WARM_BYTES at a time: none in one smaller than four of
	 * them, and a bound on the runs in case a running target's events
	 * keep it half full. */
	for (unsigned runs = 0; done < want && runs < 4096; runs++) {
		LIBBPF_OPTS(bpf_test_run_opts, run);

		if (r->o.ring_bytes < 4 * SS_RING_WARM_BYTES || bpf_prog_test_run_opts(fd, &run))
			return;	/* no warm-up: a slower first lap, nothing lost */
		done += (__u64)run.retval * SS_RING_WARM_BYTES;
		if (ring_buffer__consume(r->rb) < 0)
			return;
	}
}

int ss_recorder_open(const struct ss_recorder_opts *o, struct ss_recorder **out,
		     char *errbuf, size_t errlen)
{
	struct ss_recorder *r = calloc(1, sizeof(*r));
	int err;

	*out = NULL;
	if (!r) {
		if (errlen)
			snprintf(errbuf, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	r->o = *o;
	r->pull_ns = PULL_NS;
	if (!r->o.cmd_name)
		r->o.cmd_name = "record";
	if (!r->o.ring_bytes)
		r->o.ring_bytes = DEFAULT_RING_BYTES;
	r->t = (struct ss_target){ .pidfd = -1, .go_fd = -1, .exec_fd = -1,
				   .exit_status = -1 };
	if ((err = check_environment(r, o)))
		goto fail;
	verbose_libbpf = o->verbose;
	libbpf_set_print(libbpf_print);

	if (o->cmd) {
		r->exe = ss_find_in_path(o->cmd[0]);
		if (!r->exe) {
			rec_error(r, "%s: command not found", o->cmd[0]);
			err = -ENOENT;
			goto fail;
		}
		if ((err = ss_target_start(&r->t, o->cmd, !o->no_preload))) {
			rec_error(r, "cannot start %s: %s", o->cmd[0], strerror(-err));
			goto fail;
		}
	} else {
		char link[64], buf[PATH_MAX];
		if ((err = ss_target_attach(&r->t, o->pid))) {
			rec_error(r, "no process with pid %d", (int)o->pid);
			goto fail;
		}
		snprintf(link, sizeof(link), "/proc/%d/exe", (int)o->pid);
		ssize_t n = readlink(link, buf, sizeof(buf) - 1);
		if (n <= 0) {
			err = -errno;
			rec_error(r, "cannot read %s: %s", link, strerror(errno));
			goto fail;
		}
		buf[n] = '\0';
		r->exe = strdup(buf);
	}

	r->ncpus = libbpf_num_possible_cpus();
	r->lost_seen = calloc((size_t)(r->ncpus > 0 ? r->ncpus : 1), sizeof(*r->lost_seen));
	r->skel = stallscope_bpf__open();
	if (!r->skel || r->ncpus <= 0 || !r->lost_seen) {
		err = -errno;
		rec_error(r, "cannot open the BPF programs: %s", strerror(errno));
		goto fail;
	}
	r->skel->rodata->targ_tgid = (__u32)r->t.pid;
	/* --kernel-only: the waits from the target's sleeps, no syscall
	 * hooked (docs/recording.md); --syscalls hooks them anyway. */
	r->sleep_parks = o->kernel_only && !o->syscalls;
	r->skel->rodata->sleep_parks = r->sleep_parks;
	r->ring_pieces = !o->kernel_only && !kernel_copies_whole();
	r->skel->rodata->ring_copy_whole = !o->kernel_only && !r->ring_pieces;
	bpf_map__set_max_entries(r->skel->maps.events, r->o.ring_bytes);
	r->skel->rodata->wake_bytes = r->o.ring_bytes / 4 < WAKE_BYTES_MAX ?
				      r->o.ring_bytes / 4 : WAKE_BYTES_MAX;
	/* The probes' programs are attached by uprobe_multi links (recorder_attach.c). */
	struct bpf_program *multi[] = {
		r->skel->progs.handle_usdt, r->skel->progs.handle_ring_flush,
		r->skel->progs.handle_ring_retire, r->skel->progs.handle_ring_exit,
		r->skel->progs.handle_tokio, r->skel->progs.handle_tokio_ret,
	};
	for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++) {
		bpf_program__set_autoattach(multi[i], false);
		bpf_program__set_expected_attach_type(multi[i], SS_BPF_TRACE_UPROBE_MULTI);
	}
	bpf_program__set_autoattach(r->skel->progs.handle_ring_pull, false);
	/* --kernel-only attaches no probe and no pull: not loaded either
	 * (the verifier's time, and a program it might refuse). */
	if (o->kernel_only) {
		for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++)
			bpf_program__set_autoload(multi[i], false);
		bpf_program__set_autoload(r->skel->progs.handle_ring_pull, false);
	}
	/* --no-readiness: the program that runs for every packet of the
	 * machine, most of what a full recording costs a network server
	 * (docs/recording.md), not loaded. */
	if (o->no_readiness)
		bpf_program__set_autoload(r->skel->progs.handle_sk_data_ready, false);
	/* Attached below unless the shim's parks carry the syscalls. */
	bpf_program__set_autoattach(r->skel->progs.handle_sys_enter, false);
	bpf_program__set_autoattach(r->skel->progs.handle_sys_exit, false);
	if ((err = stallscope_bpf__load(r->skel))) {
		rec_error(r, "cannot load the BPF programs: %s", strerror(-err));
		goto fail;
	}
	/* Before the probes: the rings' slots from before now are not ours. */
	if ((err = ss_ringrec_new(&r->rr, rec_emit_ring_record,
				  r->o.on_block_begin ? &rec_ring_blocks : NULL, r))) {
		rec_error(r, "%s", strerror(-err));
		goto fail;
	}
	/* The probes first: attaching can wait behind other tracers' uprobe
	 * detaches (the kernel serializes them), and the tracepoints would
	 * meanwhile record that wait into the trace. */
	if (!o->kernel_only) {
		union bpf_iter_link_info linfo = { .task.pid = (__u32)r->t.pid };
		LIBBPF_OPTS(bpf_iter_attach_opts, io, .link_info = &linfo,
			    .link_info_len = sizeof(linfo));

		rec_attach_usdt(r, r->exe);
		rec_scan_rings(r);
		r->pull = bpf_program__attach_iter(r->skel->progs.handle_ring_pull, &io);
		if (!r->pull)
			rec_warn(r, "cannot attach the rings' pull: %s: "
					"busy threads show up only when they sleep",
				strerror(errno));
	}
	/* The syscall programs, unless the preload shim's parks (through
	 * its rings) carry the target's epoll and futex waits and its
	 * ring_exit the rings' drain at exit, or its sleeps do (no rings
	 * to drain): hooking any syscall puts every syscall of the machine
	 * on the kernel's slow path (bench/syscall_tax.sh), which cost a
	 * loaded HTTP server more than all the rest of the recording
	 * (docs/recording.md). */
	r->shim_parks = !o->kernel_only && r->shim_exit && !o->syscalls;
	if (!r->shim_parks && !r->sleep_parks &&
	    ((err = rec_attach_prog(r->skel->progs.handle_sys_enter, &r->skel->links.handle_sys_enter)) ||
	     (err = rec_attach_prog(r->skel->progs.handle_sys_exit, &r->skel->links.handle_sys_exit)))) {
		rec_error(r, "cannot attach the syscall programs: %s", strerror(-err));
		goto fail;
	}
	if ((err = stallscope_bpf__attach(r->skel))) {
		rec_error(r, "cannot attach the BPF programs: %s", strerror(-err));
		goto fail;
	}
	r->rb = ring_buffer__new(bpf_map__fd(r->skel->maps.events), rec_on_event, r, NULL);
	if (!r->rb) {
		err = -errno;
		rec_error(r, "cannot open the ring buffer: %s", strerror(errno));
		goto fail;
	}
	/* Its positions, for rec_holds_in_ring (without them a file's
	 * header goes out with its first ring chunk). */
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	r->rb_pos = mmap(NULL, 2 * r->page, PROT_READ, MAP_SHARED,
			 bpf_map__fd(r->skel->maps.events), 0);
	if (r->rb_pos == MAP_FAILED)
		r->rb_pos = NULL;

	rec_warm_ring(r);
	r->real_time = rec_go_real_time(true);
	r->start_ns = ss_mono_ns();
	r->start_real_ns = ss_real_ns();
	r->last_lost = r->start_ns;
	if (r->t.started) {
		/* Step 3: go, and learn whether the exec worked. */
		if ((err = ss_target_release(&r->t))) {
			rec_error(r, "cannot run %s: %s", o->cmd[0],
				strerror(-err));
			goto fail;
		}
		r->exec_ns = ss_mono_ns();
		for (char **a = o->cmd; *a; a++)
			r->meta.argc++;
		r->meta.argv = o->cmd;
	} else {
		char cmdline[8192];
		int n = ss_proc_read_string(r->t.pid, "cmdline", cmdline, sizeof(cmdline));
		unsigned argc2 = 0;

		r->own_argv = true;
		r->meta.argv = calloc(256, sizeof(*r->meta.argv));
		for (int i = 0; r->meta.argv && i < n && argc2 < 255;
		     i += (int)strlen(cmdline + i) + 1)
			if ((r->meta.argv[argc2] = strdup(cmdline + i)))
				argc2++;
		r->meta.argc = argc2;
		if ((err = rec_start_sink(r)))
			goto fail;
	}
	*out = r;
	return 0;
fail:
	if (errlen)
		snprintf(errbuf, errlen, "%s", r->msg[0] ? r->msg : strerror(err < 0 ? -err : EINVAL));
	ss_recorder_free(r);
	return err < 0 ? err : -EINVAL;
}

/*
 * Until a started command's header is out, a file's events wait where
 * BPF put them, in the ring buffer: written and read once already (its
 * warm-up), where taking them would copy them into memory touched for
 * the first time, a page fault in the hypervisor's page tables for every
 * 4 KiB (~11 us a page here).  A busy target's first 20 ms cost the
 * recorder that way 3 ms for every MiB held (ring chunks copied as they
 * came), a tenth of its pace once the header was out.  Other sinks
 * (live's, watch's: records) take them as records, held in pending.
 */
bool rec_holds_in_ring(const struct ss_recorder *r)
{
	return !r->started_sink && !r->start_err && r->t.started && r->o.on_block_begin &&
	       r->rb_pos;
}

/* Bytes waiting in the ring buffer (reserved ones included). */
static __u64 rec_ring_waiting(const struct ss_recorder *r)
{
	return rec_ring_pos(r, 1) - rec_ring_pos(r, 0);
}

/*
 * When a started command's header is due: once ld.so has mapped its
 * libraries (the mappings name tasks) and its runtime has named its
 * workers (the header says how many: as many for 50 ms) — a slow target (a sanitizer's)
 * takes longer than 20 ms for that — or at the latest after
 * HEADER_WAIT_NS, or when what waits for it grows large: the records
 * held back, or a quarter of the ring buffer (then however soon after
 * the exec, with what it knows by then).
 */
bool rec_header_due(struct ss_recorder *r, __u64 now)
{
	__u32 workers = 0;

	if (r->started_sink || !r->t.started)
		return false;
	if (rec_holds_in_ring(r) &&
	    rec_ring_waiting(r) >= r->o.ring_bytes / HEADER_RING_SHARE)
		return true;
	if (now - r->exec_ns < HEADER_DELAY_NS)
		return false;
	if (now - r->exec_ns >= HEADER_WAIT_NS || r->npending >= HEADER_PENDING_MAX)
		return true;
	/* Named, and as many for HEADER_STABLE_NS: all started. */
	ss_proc_threads(r->t.pid, rec_count_worker, &workers);
	if (workers != r->workers_seen) {
		r->workers_seen = workers;
		r->workers_since = now;
		return false;
	}
	return workers && now - r->workers_since >= HEADER_STABLE_NS;
}

/* The threads at the header (rec_start_sink), once the ring buffer was
 * read past what waited in it then — or at the stop (all): a recorder
 * behind a busy target's load may read less than it gets for as long
 * as the target runs. */
static void rec_attach_records(struct ss_recorder *r, bool all)
{
	if (!r->nattach || (!all && (__s64)(rec_ring_pos(r, 0) - r->attach_prod) < 0))
		return;
	for (size_t i = 0; i < r->nattach; i++)
		rec_emit(r, &r->attach_recs[i]);
	free(r->attach_recs);
	r->attach_recs = NULL;
	r->nattach = r->capattach = 0;
}

/* A consume bounded by CONSUME_BUDGET_BYTES: 0 or -errno. */
int rec_consume(struct ss_recorder *r)
{
	int err = ring_buffer__consume(r->rb);

	return err == BUDGET_SPENT || err > 0 ? 0 : err;
}

int ss_recorder_poll(struct ss_recorder *r, int timeout_ms)
{
	/* Woken early only when the ring fills (bpf submit()); else this
	 * is a timer, and consume drains what came. */
	int err;
	__u64 now = ss_mono_ns();

	r->msg[0] = '\0';

	/* Wait no longer than the next pull is due (if there are rings to
	 * pull: not with --kernel-only), and not at all while the last
	 * consume left records behind. */
	if (r->more || (r->pull && r->last_pull + r->pull_ns <= now))
		timeout_ms = 0;
	else if (r->pull && (__u64)timeout_ms * 1000000ULL > r->last_pull + r->pull_ns - now)
		timeout_ms = (int)((r->last_pull + r->pull_ns - now + 999999) / 1000000);
	r->more = false;
	/* The header first, as soon as it is due: records held back before
	 * it cost memory (64 bytes each). */
	if (rec_header_due(r, now) && (err = rec_start_sink(r)))
		return err;
	if (rec_holds_in_ring(r)) {
		/* The events wait in the ring buffer; a look every ms
		 * whether the header is due (BPF's wake-ups would have the
		 * poll return at once, and it would take them). */
		struct timespec ms = { 0, 1000000 };

		if (timeout_ms > 0)
			clock_nanosleep(CLOCK_MONOTONIC, 0, &ms, NULL);
		err = 0;
	} else {
		/* The chunks of pulls started before now are in the ring
		 * buffer by now (the pull's read returns after its program
		 * submitted them); read to its end, they have been had. */
		__u64 pulled = r->last_pull, read_from;

		err = ring_buffer__poll(r->rb, timeout_ms);
		if (err == BUDGET_SPENT || err > 0)
			err = 0;
		read_from = ss_mono_ns();
		if (!err && !r->more)
			err = rec_consume(r);
		if (!err && !r->more && r->started_sink)
			r->complete_ns = r->pull ? pulled : read_from;
		rec_attach_records(r, false);
	}
	now = ss_mono_ns();
	/* Every PULL_NS while a thread of the target runs; while none has
	 * run since the last pull, less and less often, up to PULL_QUIET_NS
	 * (a thread that starts to spin is pulled within 15 ms):
	 * an idle service is not woken for 200 times a second. */
	if (!err && r->pull && now - r->last_pull >= r->pull_ns) {
		if (rec_pull_rings(r))
			r->pull_ns = PULL_NS;
		else if ((r->pull_ns *= 2) > PULL_QUIET_NS)
			r->pull_ns = PULL_QUIET_NS;
		r->last_pull = now;
	}
	if (err < 0 && err != -EINTR) {
		rec_error(r, "reading the ring buffer: %s", strerror(-err));
		return err;
	}
	if (now - r->last_lost >= LOST_CHECK_NS) {
		rec_account_lost(r);
		rec_scan_rings(r);
		r->last_lost = now;
	}
	if (rec_header_due(r, now) && (err = rec_start_sink(r)))
		return err;
	if (r->err)
		return r->err;
	return ss_target_alive(&r->t) ? 0 : 1;
}

__u64 ss_recorder_complete_ns(const struct ss_recorder *r)
{
	return r->complete_ns > EMIT_SLACK_NS ? r->complete_ns - EMIT_SLACK_NS : 0;
}

int ss_recorder_stop(struct ss_recorder *r)
{
	int err;

	/* A file's header before the events that waited for it in the ring
	 * buffer (its error comes back below). */
	if (rec_holds_in_ring(r))
		(void)rec_start_sink(r);
	/* Everything the target did up to now: the rings, then the buffer. */
	rec_pull_rings(r);
	do
		r->more = false, (void)rec_consume(r);
	while (r->more);
	rec_attach_records(r, true);
	/* The header (for a sink of records: they were held until it)
	 * before the last halves are counted. */
	err = rec_start_sink(r);
	ss_ringrec_finish(r->rr);
	rec_account_lost(r);
	ss_target_stop(&r->t);
	return err ? err : r->err;
}

void ss_recorder_stats(const struct ss_recorder *r, struct ss_recorder_stats *s)
{
	s->events = r->events;
	__u64 ring_lost = 0, garbage = 0;

	if (r->rr)
		ss_ringrec_stats(r->rr, &ring_lost, &garbage);
	s->lost = r->lost + ring_lost;
	s->start_ns = r->start_ns;
	s->exited = r->t.exited;
	s->exit_status = r->t.exited ? r->t.exit_status : -1;
}

/* One link to close, on a thread of its own (detach_all). */
struct detach_job {
	int fd;			/* a uprobe_multi link, or -1 */
	struct bpf_link **link;	/* a skeleton's or the pull's link, or NULL */
	pthread_t thread;
	bool started;
};

static void *detach_one(void *arg)
{
	struct detach_job *j = arg;

	if (j->fd >= 0)
		close(j->fd);
	if (j->link) {
		bpf_link__destroy(*j->link);
		*j->link = NULL;
	}
	return NULL;
}

/*
 * Every link at once.  Closing one waits for an RCU grace period (tens of
 * ms here: a tracepoint's perf event, a uprobe_multi link), and closed one
 * after the other they kept `record` half a second past its target;
 * closed from as many threads, the waits overlap.  Whatever cannot get a
 * thread is closed here.
 */
static void detach_all(struct ss_recorder *r)
{
	const struct bpf_object_skeleton *sk = r->skel ? r->skel->skeleton : NULL;
	unsigned nprogs = sk ? (unsigned)sk->prog_cnt : 0, n = 0;
	struct detach_job *jobs = calloc(r->nlinks + nprogs + 1, sizeof(*jobs));

	for (unsigned i = 0; i < r->nlinks; i++) {
		if (!jobs) {
			close(r->links[i]);
			continue;
		}
		jobs[n++] = (struct detach_job){ .fd = r->links[i] };
	}
	r->nlinks = 0;
	for (unsigned i = 0; jobs && i < nprogs; i++)
		if (*sk->progs[i].link)
			jobs[n++] = (struct detach_job){ .fd = -1, .link = sk->progs[i].link };
	if (jobs && r->pull)
		jobs[n++] = (struct detach_job){ .fd = -1, .link = &r->pull };
	for (unsigned i = 0; i < n; i++)
		jobs[i].started = !pthread_create(&jobs[i].thread, NULL, detach_one, &jobs[i]);
	for (unsigned i = 0; i < n; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		else
			detach_one(&jobs[i]);
	}
	free(jobs);
}

void ss_recorder_free(struct ss_recorder *r)
{
	if (!r)
		return;
	ss_target_close(&r->t);
	detach_all(r);
	if (r->real_time)
		rec_go_real_time(false);
	bpf_link__destroy(r->pull);
	ss_ringrec_free(r->rr);
	free(r->links);
	free(r->specs);
	free(r->anchors);
	ring_buffer__free(r->rb);
	stallscope_bpf__destroy(r->skel);
	free(r->pending);
	free(r->attach_recs);
	if (r->rb_pos)
		munmap((void *)r->rb_pos, 2 * r->page);
	free(r->lost_seen);
	free(r->meta.mappings);
	if (r->own_argv) {
		for (unsigned i = 0; i < r->meta.argc; i++)
			free(r->meta.argv[i]);
		free(r->meta.argv);
	}
	free(r->exe);
	free(r);
}

