/* SPDX-License-Identifier: MIT */
/*
 * The recorder (recorder_int.h): attaching.  Which probes of which files
 * (the runtime's and the preload shim's USDT notes), as one uprobe_multi
 * link per file with a cookie per site naming its argument spec; the
 * rings' flush and retire probes, and their anchors, through which the
 * rings made before we attached are found (ringreg.c).
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
#include "tokio_syms.h"
#include "trace.h"
#include "uprobe_multi.h"

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
			rec_warn(r, "no usdt probes read from %s: %s",
				path, notes.error);
		goto out;
	}
	offsets = calloc(notes.n + 1, sizeof(*offsets));
	ref_ctrs = calloc(notes.n + 1, sizeof(*ref_ctrs));
	cookies = calloc(notes.n + 1, sizeof(*cookies));
	if (!offsets || !ref_ctrs || !cookies) {
		rec_warn(r, "cannot attach the usdt probes of %s: %s",
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
				rec_warn(r, "usdt %s:%s in %s is not one this stallscope records",
					provider, p->name, path);
			continue;
		}
		if (p->err) {
			rec_warn(r, "skipping usdt %s:%s at %s+0x%llx: %s",
				provider, p->name, path, (unsigned long long)p->offset, p->why);
			continue;
		}
		spec = p->spec;
		spec.cookie = def->type;
		if ((err = spec_id(r, &spec, &id))) {
			rec_warn(r, "skipping usdt %s:%s at %s+0x%llx: no room for its spec: %s",
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
		rec_warn(r, "cannot attach usdt %s probes in %s: %s",
			provider, path, strerror(-fd));
		cnt = 0;
	} else if (add_link(r, fd)) {
		rec_warn(r, "cannot attach usdt %s probes in %s: %s",
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
			       retire = { "ring_retire", which },
			       exitp = { "ring_exit", which };

	struct ss_usdt_notes notes;

	if (!attach_probes(r, r->skel->progs.handle_ring_flush, path, provider, &flush, 1))
		return false;
	attach_probes(r, r->skel->progs.handle_ring_retire, path, provider, &retire, 1);
	/* The shim fires ring_exit as the process exits (the runtime never
	 * does): the rings' drain at exit, without hooking exit_group. */
	if (which == SS_RING_SHIM)
		r->shim_exit = attach_probes(r, r->skel->progs.handle_ring_exit,
					     path, provider, &exitp, 1) > 0;
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
void rec_scan_rings(struct ss_recorder *r)
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
void rec_attach_usdt(struct ss_recorder *r, const char *exe)
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
			rec_warn(r,
				"no preload shim next to this binary (../lib/" SS_SHIM_NAME
				"): recording without it");
		else if (!(nshim = attach_shim(r, prog, shim)))
			rec_warn(r,
				"%s has no stallscope probes: recording without them",
				shim);
		free(shim);
	}
	r->runtime_probes = n > 0;
	if (n)
		return;
	const char *what = nshim ? "the preload shim's and the kernel's events" : "kernel events";
	if (r->o.no_tokio || !rec_attach_tokio(r, exe, what))
		rec_warn(r, "%s has no wsrt probes: recording %s only", exe, what);
}


/* ---- Tokio's own symbols ---------------------------------------------------------------- */

_Static_assert(SS_TOKIO_RAW_POLL == SS_TOKIO_SITE_POLL &&
	       SS_TOKIO_RAW_SCHEDULE == SS_TOKIO_SITE_SCHEDULE &&
	       SS_TOKIO_SCHEDULE_TASK == SS_TOKIO_SITE_SCHEDULE_TASK,
	       "record.h's Tokio site codes are tokio_syms.h's");

/* One link: prog at the sites of the entry points fns[] (cookie: which),
 * at their entries or (ret) returns. */
static int attach_tokio_sites(struct ss_recorder *r, struct bpf_program *prog,
			      const char *exe, const struct ss_tokio_syms *s,
			      const enum ss_tokio_fn *fns, unsigned nfns, bool ret)
{
	unsigned cnt = 0, total = 0;
	__u64 *offsets, *cookies;
	int fd;

	for (unsigned k = 0; k < nfns; k++)
		total += s->n[fns[k]];
	offsets = calloc(total ? total : 1, sizeof(*offsets));
	cookies = calloc(total ? total : 1, sizeof(*cookies));
	if (!offsets || !cookies) {
		free(offsets);
		free(cookies);
		return -ENOMEM;
	}
	for (unsigned k = 0; k < nfns; k++)
		for (unsigned i = 0; i < s->n[fns[k]]; i++) {
			offsets[cnt] = s->sites[fns[k]][i].offset;
			cookies[cnt++] = fns[k];
		}
	fd = ret ? ss_uretprobe_multi_attach(bpf_program__fd(prog), exe, r->t.pid,
					    offsets, cookies, cnt)
		 : ss_uprobe_multi_attach(bpf_program__fd(prog), exe, r->t.pid,
					  offsets, NULL, cookies, cnt);
	free(offsets);
	free(cookies);
	if (fd < 0)
		return fd;
	if (add_link(r, fd)) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

bool rec_attach_tokio(struct ss_recorder *r, const char *exe, const char *what)
{
	static const enum ss_tokio_fn poll = SS_TOKIO_RAW_POLL,
		entry[3] = { SS_TOKIO_RAW_POLL, SS_TOKIO_RAW_SCHEDULE, SS_TOKIO_SCHEDULE_TASK };
	struct ss_record rec = { .type = SS_TOKIO_RUNTIME };
	struct ss_tokio_syms s;
	char version[40] = "Tokio";
	bool attached = false, tokio = false;
	unsigned nlinks = r->nlinks;
	int err;

	if ((err = ss_tokio_syms_read(exe, &s))) {
		if (r->o.verbose)
			rec_warn(r, "%s: no Tokio symbols read: %s", exe, s.error);
		goto out;
	}
	if (!(tokio = ss_tokio_seen(&s)))
		goto out;	/* not a Tokio program */
	if (s.version[0] || s.version[1])
		snprintf(version, sizeof(version), "Tokio %u.%u.%u", s.version[0],
			 s.version[1], s.version[2]);
	/* raw::schedule has every wake (a vtable entry: never inlined);
	 * schedule_task, where a build kept it, the spawns and yields too. */
	if (!s.n[SS_TOKIO_RAW_POLL] || !s.n[SS_TOKIO_RAW_SCHEDULE]) {
		rec_warn(r, "%s: %s, but %s: recording %s only", exe, version,
			 !s.has_symtab && !s.debug_file ? "stripped (no symbol table, no debug file found), so its task entry points are not found" :
			 "its task entry points (raw::poll, raw::schedule) are not among its symbols (a layout this stallscope does not know?)",
			 what);
	} else if ((err = attach_tokio_sites(r, r->skel->progs.handle_tokio, exe, &s, entry, 3,
					     false)) ||
		   (err = attach_tokio_sites(r, r->skel->progs.handle_tokio_ret, exe, &s, &poll, 1,
					     true))) {
		/* All or nothing: polls without their ends would mislead. */
		while (r->nlinks > nlinks)
			close(r->links[--r->nlinks]);
		rec_warn(r, "%s: cannot attach to %s's task entry points: %s: recording %s only",
			 exe, version, strerror(-err), what);
	} else {
		attached = true;
		rec_warn(r, "%s: %u raw::poll, %u raw::schedule and %u schedule_task sites in %s",
			 version, s.n[SS_TOKIO_RAW_POLL], s.n[SS_TOKIO_RAW_SCHEDULE],
			 s.n[SS_TOKIO_SCHEDULE_TASK], exe);
	}
	rec.tid = (__u32)r->t.pid;
	for (int k = 0; k < 3; k++)
		rec.args[k] = s.version[k];
	rec.args[3] = attached ? s.n[SS_TOKIO_RAW_POLL] : 0;
	rec.args[4] = attached ? s.n[SS_TOKIO_RAW_SCHEDULE] + s.n[SS_TOKIO_SCHEDULE_TASK] : 0;
	r->tokio_rec = rec;		/* written at start (recorder.c) */
out:
	ss_tokio_syms_free(&s);
	return tokio;
}
