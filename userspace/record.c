/* SPDX-License-Identifier: MIT */
/*
 * The recorder (recorder.h) and `stallscope record`: load the BPF
 * programs, attach them to one target process, and stream its events to
 * a sink — a trace file for `record`, the screen for `live` (viz/live.c).
 *
 *   stallscope record [-o FILE] [--duration S] [--kernel-only] [--no-preload]
 *                     (-p PID | -- CMD [ARGS...])
 *
 * Owns: the libbpf lifecycle (open -> set rodata -> load -> attach -> poll,
 * one cleanup path), starting or finding the target, the trace header's
 * contents, the lost-event accounting; for `record`, when to stop.  Does
 * not own: the file format (trace.c) or the events' meaning
 * (bpf/record.h).
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
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cmds.h"
#include "outfile.h"
#include "prereq.h"
#include "procfs.h"
#include "recorder.h"
#include "ringdec.h"
#include "ringrec.h"
#include "ringreg.h"
#include "bpf/ring.h"
#include "self.h"
#include "stallscope.skel.h"
#include "target.h"
#include "trace.h"
#include "uprobe_multi.h"
#include "usdt.h"

#define DEFAULT_OUT "stallscope.trace"
#define DEFAULT_RING_BYTES (64U << 20)
#define HEADER_DELAY_NS 20000000ULL	/* after exec: let ld.so map libraries */
#define HEADER_WAIT_NS 500000000ULL	/* ... and the runtime start its workers */
#define HEADER_PENDING_MAX 65536	/* records held before the header, at most */
#define HEADER_STABLE_NS 50000000ULL	/* workers counted the same for this long */
#define LOST_CHECK_NS 100000000ULL
#define FLUSH_NS 1000000000ULL		/* the trace file, at least this often */
#define PULL_NS 5000000ULL		/* the event rings, at least this often */

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
#define N_PROBES(defs) ((unsigned)(sizeof(defs) / sizeof((defs)[0])))

struct ss_recorder {
	struct ss_recorder_opts o;

	struct ss_target t;
	char *exe;
	struct stallscope_bpf *skel;
	struct ring_buffer *rb;
	int *links;			/* uprobe_multi link fds, one per file */
	unsigned nlinks, caplinks;
	struct ss_usdt_spec *specs;	/* in usdt_specs, by id */
	unsigned nspecs, capspecs;
	bool started_sink;		/* on_start was called (and worked) */
	int start_err;			/* on_start failed: never retried */
	struct ss_record *pending;	/* before on_start */
	size_t npending, cappending;
	__u64 events, lost;
	__u64 *lost_seen;		/* per CPU */
	int ncpus;
	int err;			/* first sink error */
	__u64 start_ns, start_real_ns, exec_ns, last_lost;
	struct ss_trace_meta meta;
	bool own_argv;			/* meta.argv is ours (-p) */
	struct ss_ringrec *rr;		/* the event rings' records */
	struct bpf_link *pull;		/* the rings' periodic pull (iterator) */
	__u64 last_pull;
	size_t consumed;		/* bytes this consume (CONSUME_BUDGET_BYTES) */
	struct ss_ring_slot early[2048];	/* a block before the header */
	bool more;			/* the budget ran out: more is waiting */
	bool real_time;			/* go_real_time() took (until free) */
	bool runtime_probes;		/* the runtime's (wsrt's) probes are attached */
	struct ss_ringreg_anchor *anchors;	/* libraries with rings */
	unsigned nanchors;
	__u64 unringed_seen;		/* their count of events without a ring */
	bool scanned;			/* unringed_seen has its first value */
	__u32 workers_seen;		/* header_due's last count, */
	__u64 workers_since;		/* unchanged since */
};

static bool verbose_libbpf;
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG || (!verbose_libbpf && level == LIBBPF_INFO))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ---- records ----------------------------------------------------------------------- */

static void emit(struct ss_recorder *r, const struct ss_record *rec)
{
	if (r->started_sink) {
		int err = r->err ? r->err : r->o.on_records(r->o.arg, rec, 1);
		if (err && !r->err)
			r->err = err;
		return;
	}
	if (r->start_err)
		return;
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

/* Ring events as blocks (ringrec.h): into the sink's buffer, or, before
 * the header, into ours, then held as records like the others. */
static struct ss_ring_slot *ring_block_begin(void *arg, const struct ss_ring_chunk *hdr,
					     __u32 n)
{
	struct ss_recorder *r = arg;

	if (!r->started_sink)
		return n <= sizeof(r->early) / sizeof(r->early[0]) ? r->early : NULL;
	return r->err ? NULL : r->o.on_block_begin(r->o.arg, hdr, n);
}

static void ring_block_end(void *arg, const struct ss_ring_chunk *hdr, __u32 used,
			   __u64 events)
{
	struct ss_recorder *r = arg;
	int err;

	r->events += events;
	if (!r->started_sink) {
		struct ss_record rec;
		for (__u32 i = 0; i < used;) {
			unsigned k = ss_ringdec_one(&r->early[i], used - i, hdr->tid, &rec);
			if (!k)
				break;
			i += k;
			emit(r, &rec);
		}
		return;
	}
	if ((err = r->o.on_block_end(r->o.arg, used)) && !r->err)
		r->err = err;
}

static const struct ss_ringrec_blocks ring_blocks = {
	.begin = ring_block_begin,
	.end = ring_block_end,
};

static void emit_ring_record(void *arg, const struct ss_record *rec)
{
	struct ss_recorder *r = arg;

	if (rec->type != SS_LOST)
		r->events++;
	emit(r, rec);
}

static int on_event_record(struct ss_recorder *r, void *data, size_t size)
{
	if (size < sizeof(struct ss_record))
		return 0;
	if (((const struct ss_record *)data)->type == SS_RING_CHUNK) {
		(void)ss_ringrec_chunk(r->rr, data, size);
		return 0;
	}
	r->events++;
	emit(r, data);
	return 0;
}

/* Records handled per ring_buffer__consume(), at most: a target that
 * writes faster than we read must not keep us there (the header, the
 * pulls and the file wait on the loop). */
#define CONSUME_BUDGET_BYTES (1U << 20)
#define BUDGET_SPENT (-EAGAIN)

static int on_event(void *ctx, void *data, size_t size)
{
	struct ss_recorder *r = ctx;

	r->consumed += size;
	if (r->consumed >= CONSUME_BUDGET_BYTES) {
		r->consumed = 0;
		r->more = true;
		/* Handled below; libbpf stops after this record. */
		on_event_record(r, data, size);
		return BUDGET_SPENT;
	}
	return on_event_record(r, data, size);
}


/* The periodic pull: the iterator drains the rings of threads that have
 * not left their CPU (bpf/stallscope.bpf.c, handle_ring_pull). */
static void pull_rings(struct ss_recorder *r)
{
	char buf[256];
	int fd;

	ss_ringrec_sample(r->rr);
	if (!r->pull)
		return;
	fd = bpf_iter_create(bpf_link__fd(r->pull));
	if (fd < 0)
		return;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

/* Turns the BPF per-CPU lost counters into SS_LOST records (deltas). */
static void account_lost(struct ss_recorder *r)
{
	__u32 key = SS_COUNTER_LOST;
	__u64 vals[r->ncpus];

	if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.counters), &key, vals))
		return;
	for (int c = 0; c < r->ncpus; c++) {
		if (vals[c] <= r->lost_seen[c])
			continue;
		struct ss_record rec = { .ts = ss_mono_ns(), .type = SS_LOST,
					 .cpu = (__u32)c };
		rec.args[0] = vals[c] - r->lost_seen[c];
		r->lost += rec.args[0];
		r->lost_seen[c] = vals[c];
		emit(r, &rec);
	}
}

static void thread_at_attach(void *arg, int tid, const char *comm)
{
	struct ss_record rec = { .ts = ss_mono_ns(), .type = SS_THREAD_AT_ATTACH,
				 .tid = (__u32)tid };
	strncpy((char *)rec.args, comm, 16);
	emit(arg, &rec);
}

static void seed_socket(void *arg, unsigned long long ino)
{
	struct ss_recorder *r = arg;
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

/* Fills the header, hands it to the sink, then the records held back. */
static int start_sink(struct ss_recorder *r)
{
	struct ss_trace_meta *m = &r->meta;
	struct utsname u;
	char comm[32] = "";
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
	ss_proc_threads(r->t.pid, count_worker, &m->workers);
	m->flags = (r->o.kernel_only ? SS_FILE_KERNEL_ONLY : 0) |
		   (r->runtime_probes ? SS_FILE_RUNTIME_PROBES : 0);
	ss_proc_mappings(r->t.pid, &m->mappings, &m->nmappings);

	if ((err = r->o.on_start(r->o.arg, m))) {
		r->start_err = err;
		free(r->pending);
		r->pending = NULL;
		r->npending = r->cappending = 0;
		return err;
	}
	r->started_sink = true;
	if (r->npending && (err = r->o.on_records(r->o.arg, r->pending, r->npending)))
		r->err = r->err ? r->err : err;
	free(r->pending);
	r->pending = NULL;
	r->npending = r->cappending = 0;
	ss_proc_threads(r->t.pid, thread_at_attach, r);
	return r->err;
}

/* ---- attaching ------------------------------------------------------------------------------ */

static int add_link(struct ss_recorder *r, int fd)
{
	if (r->nlinks == r->caplinks) {
		unsigned nc = r->caplinks ? 2 * r->caplinks : 8;
		int *nl = realloc(r->links, nc * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		r->links = nl;
		r->caplinks = nc;
	}
	r->links[r->nlinks++] = fd;
	return 0;
}

/* The index of spec in usdt_specs: an equal one's (sites often share
 * one), or a new entry's.  0 or -errno. */
static int spec_id(struct ss_recorder *r, const struct ss_usdt_spec *spec, __u32 *id)
{
	for (unsigned i = 0; i < r->nspecs; i++)
		if (!memcmp(&r->specs[i], spec, sizeof(*spec))) {
			*id = i;
			return 0;
		}
	if (r->nspecs == SS_USDT_MAX_SPECS)
		return -E2BIG;
	if (r->nspecs == r->capspecs) {
		unsigned nc = r->capspecs ? 2 * r->capspecs : 64;
		struct ss_usdt_spec *ns = realloc(r->specs, nc * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		r->specs = ns;
		r->capspecs = nc;
	}
	*id = r->nspecs;
	if (bpf_map_update_elem(bpf_map__fd(r->skel->maps.usdt_specs), id, spec, BPF_ANY))
		return -errno;
	r->specs[r->nspecs++] = *spec;
	return 0;
}

static const struct probe_def *probe_def_find(const struct probe_def *defs,
					      unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(defs[i].name, name))
			return &defs[i];
	return NULL;
}

/* Attaches prog to every site in path of the provider's probes that
 * defs lists (each site's spec cookie is its def's type), through one
 * uprobe_multi link; returns how many sites. */
static unsigned attach_probes(struct ss_recorder *r, struct bpf_program *prog,
			      const char *path, const char *provider,
			      const struct probe_def *defs, unsigned n)
{
	struct ss_usdt_notes notes;
	__u64 *offsets = NULL, *ref_ctrs = NULL, *cookies = NULL;
	unsigned cnt = 0;
	bool semaphores = false;
	int fd, err;

	if ((err = ss_usdt_notes_read(path, &notes))) {
		if (r->o.verbose)
			fprintf(stderr, "stallscope: no usdt probes read from %s: %s\n",
				path, notes.error);
		goto out;
	}
	offsets = calloc(notes.n + 1, sizeof(*offsets));
	ref_ctrs = calloc(notes.n + 1, sizeof(*ref_ctrs));
	cookies = calloc(notes.n + 1, sizeof(*cookies));
	if (!offsets || !ref_ctrs || !cookies) {
		fprintf(stderr, "stallscope: cannot attach the usdt probes of %s: %s\n",
			path, strerror(ENOMEM));
		goto out;
	}
	for (unsigned i = 0; i < notes.n; i++) {
		const struct ss_usdt_probe *p = &notes.probes[i];
		const struct probe_def *def;
		struct ss_usdt_spec spec;
		__u32 id;

		if (strcmp(p->provider, provider))
			continue;
		if (!(def = probe_def_find(defs, n, p->name))) {
			if (r->o.verbose)
				fprintf(stderr, "stallscope: usdt %s:%s in %s is not one this stallscope records\n",
					provider, p->name, path);
			continue;
		}
		if (p->err) {
			fprintf(stderr, "stallscope: skipping usdt %s:%s at %s+0x%llx: %s\n",
				provider, p->name, path, (unsigned long long)p->offset, p->why);
			continue;
		}
		spec = p->spec;
		spec.cookie = def->type;
		if ((err = spec_id(r, &spec, &id))) {
			fprintf(stderr, "stallscope: skipping usdt %s:%s at %s+0x%llx: no room for its spec: %s\n",
				provider, p->name, path, (unsigned long long)p->offset,
				strerror(-err));
			continue;
		}
		offsets[cnt] = p->offset;
		ref_ctrs[cnt] = p->ref_ctr_offset;
		semaphores |= p->ref_ctr_offset != 0;
		cookies[cnt++] = id;
	}
	if (!cnt)
		goto out;
	fd = ss_uprobe_multi_attach(bpf_program__fd(prog), path,
				    r->t.pid, offsets, semaphores ? ref_ctrs : NULL,
				    cookies, cnt);
	if (fd < 0) {
		fprintf(stderr, "stallscope: cannot attach usdt %s probes in %s: %s\n",
			provider, path, strerror(-fd));
		cnt = 0;
	} else if (add_link(r, fd)) {
		fprintf(stderr, "stallscope: cannot attach usdt %s probes in %s: %s\n",
			provider, path, strerror(ENOMEM));
		close(fd);
		cnt = 0;
	}
out:
	free(offsets);
	free(ref_ctrs);
	free(cookies);
	ss_usdt_notes_free(&notes);
	return cnt;
}

static bool is_shim(const char *path)
{
	const char *base = strrchr(path, '/');

	return !strcmp(base ? base + 1 : path, SS_SHIM_NAME);
}

/* The event rings of one provider in path: their flush and retire
 * probes, through which everything else arrives (each spec's cookie says
 * whose rings: SS_RING_WSRT or SS_RING_SHIM).  False if path has no rings
 * (a binary from before them: its probes are attached one by one). */
static bool attach_ring(struct ss_recorder *r, const char *path,
			const char *provider)
{
	__u32 which = strcmp(provider, "wsrt") ? SS_RING_SHIM : SS_RING_WSRT;
	const struct probe_def flush = { "ring_flush", which },
			       retire = { "ring_retire", which };

	struct ss_usdt_notes notes;

	if (!attach_probes(r, r->skel->progs.handle_ring_flush, path, provider, &flush, 1))
		return false;
	attach_probes(r, r->skel->progs.handle_ring_retire, path, provider, &retire, 1);
	/* Its anchor, to find rings made before now (ringreg.c). */
	if (!ss_usdt_notes_read(path, &notes)) {
		for (unsigned i = 0; i < notes.n; i++) {
			const struct ss_usdt_probe *p = &notes.probes[i];
			struct ss_ringreg_anchor *na;

			if (strcmp(p->provider, provider) || strcmp(p->name, "ring_flush") ||
			    !p->ref_ctr_offset)
				continue;
			na = realloc(r->anchors, (r->nanchors + 1) * sizeof(*na));
			if (!na)
				break;
			r->anchors = na;
			na = &r->anchors[r->nanchors++];
			snprintf(na->path, sizeof(na->path), "%s", path);
			na->file_off = p->ref_ctr_offset;
			na->provider = which;
			break;
		}
		ss_usdt_notes_free(&notes);
	}
	return true;
}

/* Rings of the target the map does not know (made before we attached),
 * and the events its libraries dropped for want of a ring (deltas). */
static void scan_rings(struct ss_recorder *r)
{
	__u64 unringed = 0;

	if (!r->nanchors)
		return;
	ss_ringreg_scan(r->t.pid, r->anchors, r->nanchors,
			bpf_map__fd(r->skel->maps.rings), &unringed);
	if (!r->scanned) {	/* what was dropped before us is not ours */
		r->scanned = true;
		r->unringed_seen = unringed;
	}
	if (unringed > r->unringed_seen) {
		ss_ringrec_lost_unringed(r->rr, unringed - r->unringed_seen);
		r->unringed_seen = unringed;
	}
}

static unsigned attach_runtime(struct ss_recorder *r, struct bpf_program *prog,
			       const char *path)
{
	if (attach_ring(r, path, "wsrt"))
		return 1;
	return attach_probes(r, prog, path, "wsrt", wsrt_probes, N_PROBES(wsrt_probes));
}

static unsigned attach_shim(struct ss_recorder *r, struct bpf_program *prog,
			    const char *path)
{
	if (attach_ring(r, path, "stallscope"))
		return 1;
	return attach_probes(r, prog, path, "stallscope", shim_probes, N_PROBES(shim_probes));
}

/* The runtime's probes in the target's executable and libraries; the
 * preload shim's in the shim the target runs with. */
static void attach_usdt(struct ss_recorder *r, const char *exe)
{
	struct bpf_program *prog = r->skel->progs.handle_usdt;
	unsigned n = attach_runtime(r, prog, exe);
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
					nshim += attach_shim(r, prog, m[i].path);
				else
					n += attach_runtime(r, prog, m[i].path);
			}
			free(m);
		}
	} else if (!r->o.no_preload) {
		/* The very file target.c preloads: uprobes live on the
		 * file, so they are in place before the target maps it. */
		shim = ss_shim_path();
		if (!shim)
			fprintf(stderr,
				"stallscope: no preload shim next to this binary (../lib/" SS_SHIM_NAME
				"): recording without it\n");
		else if (!(nshim = attach_shim(r, prog, shim)))
			fprintf(stderr,
				"stallscope: %s has no stallscope probes: recording without them\n",
				shim);
		free(shim);
	}
	r->runtime_probes = n > 0;
	if (!n)
		fprintf(stderr,
			"stallscope: %s has no wsrt probes: recording %s only\n",
			exe, nshim ? "the preload shim's and the kernel's events" :
				     "kernel events");
}

/* ---- the recorder ------------------------------------------------------------------------------ */

/*
 * The recorder runs at the lowest real-time priority: it sleeps nearly
 * all the time, and when it wakes (its 5 ms pull, or the ring buffer a
 * quarter full) it must get a CPU at once even when the target keeps
 * every CPU busy — an ordinary process waited behind busy workers long
 * enough for 64 MiB to fill (a scheduler benchmark at 30 million events
 * a second).  Losing events is worse than taking the CPU time they cost
 * from the target, which is what the benchmarks count.  Its children
 * never inherit it (SCHED_RESET_ON_FORK; the target is forked before).
 * Best effort: without the privilege it stays an ordinary process.
 * Only while it records: ss_recorder_free makes the thread ordinary again
 * (demo and live analyze afterwards).
 */
static bool go_real_time(bool on)
{
	struct sched_param sp = { .sched_priority = on ? 1 : 0 };

	return !sched_setscheduler(0, (on ? SCHED_FIFO : SCHED_OTHER) |
					      SCHED_RESET_ON_FORK, &sp);
}

/* The machine's side (privileges, BTF, lockdown) is prereq.c's, checked by
 * the commands before they open a recorder. */
static int check_environment(const struct ss_recorder_opts *o)
{
	if (o->pid && kill(o->pid, 0) && errno == ESRCH) {
		fprintf(stderr, "stallscope: no process with pid %d\n", (int)o->pid);
		return -ESRCH;
	}
	return 0;
}

int ss_recorder_open(const struct ss_recorder_opts *o, struct ss_recorder **out)
{
	struct ss_recorder *r = calloc(1, sizeof(*r));
	int err;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->o = *o;
	if (!r->o.cmd_name)
		r->o.cmd_name = "record";
	if (!r->o.ring_bytes)
		r->o.ring_bytes = DEFAULT_RING_BYTES;
	r->t = (struct ss_target){ .pidfd = -1, .go_fd = -1, .exec_fd = -1,
				   .exit_status = -1 };
	if ((err = check_environment(o)))
		goto fail;
	verbose_libbpf = o->verbose;
	libbpf_set_print(libbpf_print);

	if (o->cmd) {
		r->exe = ss_find_in_path(o->cmd[0]);
		if (!r->exe) {
			fprintf(stderr, "stallscope: %s: command not found\n", o->cmd[0]);
			err = -ENOENT;
			goto fail;
		}
		if ((err = ss_target_start(&r->t, o->cmd, !o->no_preload))) {
			fprintf(stderr, "stallscope: cannot start %s: %s\n", o->cmd[0], strerror(-err));
			goto fail;
		}
	} else {
		char link[64], buf[PATH_MAX];
		if ((err = ss_target_attach(&r->t, o->pid))) {
			fprintf(stderr, "stallscope: no process with pid %d\n", (int)o->pid);
			goto fail;
		}
		snprintf(link, sizeof(link), "/proc/%d/exe", (int)o->pid);
		ssize_t n = readlink(link, buf, sizeof(buf) - 1);
		if (n <= 0) {
			err = -errno;
			fprintf(stderr, "stallscope: cannot read %s: %s\n", link, strerror(errno));
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
		fprintf(stderr, "stallscope: cannot open the BPF programs: %s\n", strerror(errno));
		goto fail;
	}
	r->skel->rodata->targ_tgid = (__u32)r->t.pid;
	bpf_map__set_max_entries(r->skel->maps.events, r->o.ring_bytes);
	/* The probes' program is attached by uprobe_multi links (attach_usdt). */
	bpf_program__set_autoattach(r->skel->progs.handle_usdt, false);
	bpf_program__set_autoattach(r->skel->progs.handle_ring_flush, false);
	bpf_program__set_autoattach(r->skel->progs.handle_ring_retire, false);
	bpf_program__set_autoattach(r->skel->progs.handle_ring_pull, false);
	bpf_program__set_expected_attach_type(r->skel->progs.handle_usdt,
					      SS_BPF_TRACE_UPROBE_MULTI);
	bpf_program__set_expected_attach_type(r->skel->progs.handle_ring_flush,
					      SS_BPF_TRACE_UPROBE_MULTI);
	bpf_program__set_expected_attach_type(r->skel->progs.handle_ring_retire,
					      SS_BPF_TRACE_UPROBE_MULTI);
	if ((err = stallscope_bpf__load(r->skel))) {
		fprintf(stderr, "stallscope: cannot load the BPF programs: %s\n", strerror(-err));
		goto fail;
	}
	if (!r->t.started)
		ss_proc_epoll_sockets(r->t.pid, seed_socket, r);
	/* Before the probes: the rings' slots from before now are not ours. */
	if ((err = ss_ringrec_new(&r->rr, emit_ring_record,
				  r->o.on_block_begin ? &ring_blocks : NULL, r))) {
		fprintf(stderr, "stallscope: %s\n", strerror(-err));
		goto fail;
	}
	/* The probes first: attaching can wait behind other tracers' uprobe
	 * detaches (the kernel serializes them), and the tracepoints would
	 * meanwhile record that wait into the trace. */
	if (!o->kernel_only) {
		union bpf_iter_link_info linfo = { .task.pid = (__u32)r->t.pid };
		LIBBPF_OPTS(bpf_iter_attach_opts, io, .link_info = &linfo,
			    .link_info_len = sizeof(linfo));

		attach_usdt(r, r->exe);
		scan_rings(r);
		r->pull = bpf_program__attach_iter(r->skel->progs.handle_ring_pull, &io);
		if (!r->pull)
			fprintf(stderr, "stallscope: cannot attach the rings' pull: %s: "
					"busy threads show up only when they sleep\n",
				strerror(errno));
	}
	if ((err = stallscope_bpf__attach(r->skel))) {
		fprintf(stderr, "stallscope: cannot attach the BPF programs: %s\n", strerror(-err));
		goto fail;
	}
	r->rb = ring_buffer__new(bpf_map__fd(r->skel->maps.events), on_event, r, NULL);
	if (!r->rb) {
		err = -errno;
		fprintf(stderr, "stallscope: cannot open the ring buffer: %s\n", strerror(errno));
		goto fail;
	}

	r->real_time = go_real_time(true);
	r->start_ns = ss_mono_ns();
	r->start_real_ns = ss_real_ns();
	r->last_lost = r->start_ns;
	if (r->t.started) {
		/* Step 3: go, and learn whether the exec worked. */
		if ((err = ss_target_release(&r->t))) {
			fprintf(stderr, "stallscope: cannot run %s: %s\n", o->cmd[0],
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
		if ((err = start_sink(r)))
			goto fail;
	}
	*out = r;
	return 0;
fail:
	ss_recorder_free(r);
	return err < 0 ? err : -EINVAL;
}

/*
 * When a started command's header is due: once ld.so has mapped its
 * libraries (the mappings name tasks) and its runtime has named its
 * workers (the header says how many: as many for 50 ms) — a slow target (a sanitizer's)
 * takes longer than 20 ms for that — or at the latest after
 * HEADER_WAIT_NS, or when the records held back grow large.
 */
static bool header_due(struct ss_recorder *r, __u64 now)
{
	__u32 workers = 0;

	if (r->started_sink || !r->t.started || now - r->exec_ns < HEADER_DELAY_NS)
		return false;
	if (now - r->exec_ns >= HEADER_WAIT_NS || r->npending >= HEADER_PENDING_MAX)
		return true;
	/* Named, and as many for HEADER_STABLE_NS: all started. */
	ss_proc_threads(r->t.pid, count_worker, &workers);
	if (workers != r->workers_seen) {
		r->workers_seen = workers;
		r->workers_since = now;
		return false;
	}
	return workers && now - r->workers_since >= HEADER_STABLE_NS;
}

/* A consume bounded by CONSUME_BUDGET_BYTES: 0 or -errno. */
static int consume(struct ss_recorder *r)
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

	/* Wait no longer than the next pull is due, and not at all while
	 * the last consume left records behind. */
	if (r->more || r->last_pull + PULL_NS <= now)
		timeout_ms = 0;
	else if ((__u64)timeout_ms * 1000000ULL > r->last_pull + PULL_NS - now)
		timeout_ms = (int)((r->last_pull + PULL_NS - now + 999999) / 1000000);
	r->more = false;
	/* The header first, as soon as it is due: records held back before
	 * it cost memory (64 bytes each). */
	if (header_due(r, now) && (err = start_sink(r)))
		return err;
	err = ring_buffer__poll(r->rb, timeout_ms);
	if (err == BUDGET_SPENT || err > 0)
		err = 0;
	if (!err && !r->more)
		err = consume(r);
	now = ss_mono_ns();
	if (!err && now - r->last_pull >= PULL_NS) {
		pull_rings(r);
		r->last_pull = now;
	}
	if (err < 0 && err != -EINTR) {
		fprintf(stderr, "stallscope: reading the ring buffer: %s\n", strerror(-err));
		return err;
	}
	if (now - r->last_lost >= LOST_CHECK_NS) {
		account_lost(r);
		scan_rings(r);
		r->last_lost = now;
	}
	if (header_due(r, now) && (err = start_sink(r)))
		return err;
	if (r->err)
		return r->err;
	return ss_target_alive(&r->t) ? 0 : 1;
}

int ss_recorder_stop(struct ss_recorder *r)
{
	int err;

	/* Everything the target did up to now: the rings, then the buffer. */
	pull_rings(r);
	do
		r->more = false, (void)consume(r);
	while (r->more);
	ss_ringrec_finish(r->rr);
	account_lost(r);
	err = start_sink(r);
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
		go_real_time(false);
	bpf_link__destroy(r->pull);
	ss_ringrec_free(r->rr);
	free(r->links);
	free(r->specs);
	free(r->anchors);
	ring_buffer__free(r->rb);
	stallscope_bpf__destroy(r->skel);
	free(r->pending);
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

/* ---- the command ------------------------------------------------------------------------------------ */

struct rec_cmd {
	const char *out_path;
	double duration_s;
	struct ss_trace_writer *w;
	int write_err;		/* the file's, printed once */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void die_usage(void)
{
	fprintf(stderr,
		"usage: stallscope record [-o FILE] [--duration S] [--kernel-only] [--no-preload]\n"
		"                         (-p PID | -- CMD [ARGS...])\n"
		"  -o, --output FILE  the trace file (default " DEFAULT_OUT ")\n"
		"  --duration S       stop after S seconds (a started CMD is then terminated)\n"
		"  --kernel-only      kernel events only, as for any unmodified binary\n"
		"  --no-preload       start CMD without the preload shim\n"
		"  -p, --pid PID      attach to a running process\n"
		"  -v, --verbose      show libbpf's messages\n");
}

/* The sink: the trace file (PATH.partial until it is complete). */
static int file_start(void *arg, const struct ss_trace_meta *meta)
{
	struct rec_cmd *c = arg;
	int err = ss_trace_create(c->out_path, meta, &c->w);

	if (err)
		fprintf(stderr, "stallscope: cannot create %s: %s\n", c->out_path,
			ss_outfile_strerror(err));
	return err;
}

static int file_records(void *arg, const struct ss_record *recs, size_t n)
{
	struct rec_cmd *c = arg;
	int err = ss_trace_write(c->w, recs, n);

	if (err && !c->write_err) {
		c->write_err = err;
		fprintf(stderr, "stallscope: writing %s: %s\n", c->out_path, strerror(-err));
	}
	return err;
}

static struct ss_ring_slot *file_block_begin(void *arg, const struct ss_ring_chunk *hdr,
					     __u32 n)
{
	struct rec_cmd *c = arg;

	return ss_trace_block_begin(c->w, hdr, n);
}

static int file_block_end(void *arg, __u32 used)
{
	struct rec_cmd *c = arg;
	int err = ss_trace_block_end(c->w, used);

	if (err && !c->write_err) {
		c->write_err = err;
		fprintf(stderr, "stallscope: writing %s: %s\n", c->out_path, strerror(-err));
	}
	return err;
}

static int parse_args(struct rec_cmd *c, struct ss_recorder_opts *o, int argc,
		      char **argv)
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
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+o:p:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			c->out_path = optarg;
			break;
		case 'd':
			c->duration_s = strtod(optarg, &end);
			if (*end || !(c->duration_s > 0) || c->duration_s > 1e7) {
				fprintf(stderr, "stallscope: --duration: want seconds > 0: %s\n", optarg);
				return -EINVAL;
			}
			break;
		case 'k':
			o->kernel_only = true;
			break;
		case 'n':
			o->no_preload = true;
			break;
		case 'p':
			if (!ss_parse_pid("-p", optarg, &o->pid))
				return -EINVAL;
			break;
		case 'r': {
			long v = strtol(optarg, &end, 10);
			/* A power of two, at least a page: the ring's rules. */
			if (*end || v < 4 || v > (1 << 20) || (v & (v - 1))) {
				fprintf(stderr, "stallscope: --ring-kb: want a power of two >= 4: %s\n", optarg);
				return -EINVAL;
			}
			o->ring_bytes = (unsigned)v * 1024;
			break;
		}
		case 'v':
			o->verbose = true;
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
		o->cmd = argv + optind;
	if (!!o->pid == !!o->cmd) {
		fprintf(stderr, "stallscope: record: give either -p PID or -- CMD [ARGS...]\n");
		die_usage();
		return -EINVAL;
	}
	return 0;
}

int ss_cmd_record(int argc, char **argv)
{
	struct rec_cmd c = { .out_path = DEFAULT_OUT };
	struct ss_recorder_opts o = { .cmd_name = "record", .ring_bytes = DEFAULT_RING_BYTES,
				      .on_start = file_start, .on_records = file_records,
				      .on_block_begin = file_block_begin,
				      .on_block_end = file_block_end,
				      .arg = &c };
	struct ss_recorder *r = NULL;
	struct ss_recorder_stats st;
	__u32 stop_reason = 0;
	int err, ret = 1;

	err = parse_args(&c, &o, argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	/* Before the target starts: an output that can't be one is bad input. */
	if ((err = ss_outfile_check(c.out_path))) {
		fprintf(stderr, "stallscope: cannot write %s: %s\n", c.out_path,
			ss_outfile_strerror(err));
		return 2;
	}
	/* Before the target starts: a Ctrl-C while loading stops cleanly. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (ss_prereq_prepare("record"))
		return 2;
	if (ss_recorder_open(&o, &r))
		goto out;
	/* A running process: say when its events start to count. */
	if (o.pid) {
		if (c.duration_s > 0)
			fprintf(stderr, "stallscope: recording pid %d for %g s\n",
				(int)o.pid, c.duration_s);
		else
			fprintf(stderr, "stallscope: recording pid %d; Ctrl-C to stop\n",
				(int)o.pid);
	}

	ss_recorder_stats(r, &st);
	__u64 deadline = c.duration_s > 0 ?
		st.start_ns + (__u64)(c.duration_s * 1e9) : UINT64_MAX;
	__u64 flushed = st.start_ns;
	for (;;) {
		err = ss_recorder_poll(r, 50);
		/* A recorder killed (SIGKILL) loses at most the last second. */
		if (c.w && ss_mono_ns() - flushed >= FLUSH_NS) {
			(void)ss_trace_flush(c.w);	/* sticky: finish reports it */
			flushed = ss_mono_ns();
		}
		if (err < 0) {
			stop_reason = SS_STOP_ERROR;
			break;
		}
		if (stop_signal) {
			stop_reason = SS_STOP_SIGNAL;
			break;
		}
		if (ss_mono_ns() >= deadline) {
			stop_reason = SS_STOP_DURATION;
			break;
		}
		if (err == 1) {
			stop_reason = SS_STOP_EXITED;
			break;
		}
	}
	/* Its error is the file's (sticky: finish returns it too) or the
	 * header's (then there is no file). */
	(void)ss_recorder_stop(r);
	if (!c.w)
		goto out;
	ss_recorder_stats(r, &st);
	__u64 end = ss_mono_ns();
	char partial[PATH_MAX + 16];
	snprintf(partial, sizeof(partial), "%s", ss_trace_partial_path(c.w));
	err = ss_trace_finish(c.w, st.lost, end, stop_reason,
			      st.exited ? st.exit_status : -1);
	c.w = NULL;
	if (err) {
		if (!c.write_err)
			fprintf(stderr, "stallscope: writing %s: %s\n", c.out_path, strerror(-err));
		if (!access(partial, F_OK))
			fprintf(stderr, "stallscope: what was recorded is in %s\n", partial);
		goto out;
	}
	fprintf(stderr, "stallscope: %llu events, %llu lost, %.2f s, written to %s\n",
		(unsigned long long)st.events, (unsigned long long)st.lost,
		(double)(end - st.start_ns) / 1e9, c.out_path);
	ret = stop_reason == SS_STOP_ERROR ? 1 : 0;
out:
	if (c.w)
		ss_trace_abort(c.w);
	ss_recorder_free(r);
	return ret;
}
