/* SPDX-License-Identifier: MIT */
/*
 * `stallscope demo [lifo|http|all] [-o DIR]`: the stall scenarios, each
 * recorded twice — legacy and fixed — then analyzed and shown one run
 * after the other: what the example measured, the stalls found, and the
 * timeline.  `make demo` runs `stallscope demo all`.
 *
 * For each run, in order:
 *  1. fork; the child sets the scenario's switch in its environment,
 *     points stdout at DIR/<scenario>-<mode>.out (the example's output,
 *     which `record` passes through) and stderr at .log, and execs
 *     `stallscope record -o DIR/<scenario>-<mode>.trace -- <example>`
 *     from /proc/self/exe — this very binary;
 *  2. wait for it, bounded (RUN_TIMEOUT_S, then SIGTERM: record stops
 *     and ends the example itself);
 *  3. read the example's final JSON line from .out;
 *  4. analyze the trace and draw its timeline (timeline.c).
 *
 * Owns: the scenarios' table, running them, the side-by-side reading.
 * Does not own: recording (recorder.c, run as a child so that each run
 * loads and unloads its BPF programs like any user's), the analysis or
 * the drawing.  Builds nothing: the examples come with the stallscope
 * binary (self.c): in BIN/../libexec/stallscope/ where `make install`
 * puts them, or next to it in a build tree.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"
#include "outfile.h"
#include "prereq.h"
#include "self.h"
#include "timeline.h"
#include "present.h"

#define RUN_TIMEOUT_S 120	/* http-stall's client gives up after 30 s */
#define STOP_GRACE_S 10		/* after SIGTERM, before SIGKILL */

struct scenario {
	const char *name;	/* on the command line and in file names */
	const char *prog;	/* the example that comes with stallscope */
	const char *env;	/* the switch: 0 legacy, 1 fixed */
	const char *about;	/* what it does, for people */
	const char *legacy_why, *fixed_why;
};

static const struct scenario scenarios[] = {
	{
		.name = "lifo",
		.prog = "lifo-stall",
		.env = "WSRT_LIFO_STEALABLE",
		.about = "task A wakes task B over a channel, then blocks its worker for\n"
			 "200 ms without yielding; 2 workers, the other one idle.",
		.legacy_why = "B sat in A's worker's LIFO slot, which nobody may steal, and a\n"
			      "        task put in an empty LIFO slot wakes nobody (Tokio < 1.51).",
		.fixed_why = "putting B in the slot woke the idle worker, which stole it\n"
			     "        (Tokio PR 7431).",
	},
	{
		.name = "http",
		.prog = "http-stall",
		.env = "WSRT_EAGER_HANDOFF",
		.about = "an HTTP/1.1 server on 4 workers whose handler blocks its worker\n"
			 "for 200 ms.  After a warm-up request, one request on the warm\n"
			 "connection, then 20 ms later three on new connections.",
		.legacy_why = "the worker that held the I/O driver went off to run the first\n"
			      "        handler; the others slept on their futex and nobody polled\n"
			      "        epoll, so the new connections waited for it: about 2x the handler.",
		.fixed_why = "leaving the driver with work to do, the worker first woke a\n"
			     "        parked one to take it over (Tokio PR 8010): all about 1x.",
	},
};

#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static const char *const mode_names[2] = { "legacy", "fixed" };

struct run {
	const struct scenario *sc;
	int fixed;			/* the switch's value */
	char trace[PATH_MAX], out[PATH_MAX], log[PATH_MAX];
	char pftrace[PATH_MAX];		/* its Perfetto export, "" if none */
	char json[2048];		/* the example's last line, "" if none */
	bool ok;			/* recorded, measured and analyzed */
	size_t ndets;
	char kinds[128];		/* "stuck_lifo, idle_but_parked" */
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* ---- small helpers ------------------------------------------------------------------ */

/* dir/name into buf; false if it does not fit. */
static bool path_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n >= 0 && (size_t)n < len;
}

/* The number after "key": in a one-line JSON object. */
static bool json_num(const char *json, const char *key, double *v)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (!p)
		return false;
	*v = strtod(p + strlen(pat), NULL);
	return true;
}

/* The numbers of the array "key":[...], comma-separated, into buf. */
static bool json_array(const char *json, const char *key, char *buf, size_t len)
{
	char pat[64];
	const char *p, *end;

	snprintf(pat, sizeof(pat), "\"%s\":[", key);
	p = strstr(json, pat);
	if (!p || !(end = strchr(p, ']')))
		return false;
	p += strlen(pat);
	snprintf(buf, len, "%.*s", (int)(end - p), p);
	return true;
}

/* The largest number in "a,b,c". */
static double max_of(const char *list)
{
	double best = 0;

	for (const char *p = list; *p;) {
		char *end;
		double v = strtod(p, &end);

		if (end == p)
			break;
		if (v > best)
			best = v;
		p = *end == ',' ? end + 1 : end;
	}
	return best;
}

/* The last line of path starting with prefix, or "". */
static void last_line_with(const char *path, const char *prefix, char *buf,
			   size_t len)
{
	FILE *f = fopen(path, "r");
	char line[4096];

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, prefix, strlen(prefix)))
			continue;
		size_t n = strcspn(line, "\n");

		if (n >= len)	/* longer than any result line: cut */
			n = len - 1;
		memcpy(buf, line, n);
		buf[n] = '\0';
	}
	fclose(f);
}

/* Copies the last lines of a log to stderr, indented, to say why. */
static void show_log_tail(const char *path, unsigned lines)
{
	char ring[8][512];
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	if (lines > 8)
		lines = 8;
	while (fgets(ring[n % lines], sizeof(ring[0]), f))
		n++;
	fclose(f);
	for (unsigned i = n > lines ? n - lines : 0; i < n; i++)
		fprintf(stderr, "    %s", ring[i % lines]);
}

/* ---- one run ------------------------------------------------------------------------- */

/* Steps 1-2: `stallscope record` of the example; its exit status, or -1. */
/* `stallscope export TRACE -o PFTRACE`, its messages appended to the
 * run's log; true if it wrote the file. */
static bool export_run(const struct run *r, const char *self)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		int log = open(r->log, O_WRONLY | O_APPEND | O_CLOEXEC);

		if (log < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
			_exit(126);
		execl(self, "stallscope", "export", r->trace, "-o", r->pftrace,
		      (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return false;
	return true;
}

static int record_run(const struct run *r, const char *self, const char *prog)
{
	char val[2] = { (char)('0' + r->fixed), '\0' };
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "stallscope: cannot fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* Never through a symlink; through sudo, the user's files
		 * (record and export do the same for theirs). */
		int fl = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC;
		int out = open(r->out, fl, 0644), log = open(r->log, fl, 0644);

		if (out < 0 || log < 0) {
			fprintf(stderr, "stallscope: cannot create %s: %s\n",
				out < 0 ? r->out : r->log, strerror(errno));
			_exit(126);
		}
		(void)ss_give_to_sudo_user(out);
		(void)ss_give_to_sudo_user(log);
		if (dup2(out, 1) < 0 || dup2(log, 2) < 0)
			_exit(126);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		setenv(r->sc->env, val, 1);
		execl(self, "stallscope", "record", "-o", r->trace, "--", prog,
		      (char *)NULL);
		fprintf(stderr, "stallscope: cannot run %s: %s\n", self, strerror(errno));
		_exit(127);
	}

	/* Bounded: record ends the example itself when it is told to stop. */
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	unsigned waited_ms = 0;
	bool termed = false;

	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			fprintf(stderr, "stallscope: waiting for the recorder: %s\n",
				strerror(errno));
			return -1;
		}
		nanosleep(&tick, NULL);
		waited_ms += 20;
		if (!termed && waited_ms >= RUN_TIMEOUT_S * 1000U) {
			fprintf(stderr, "stallscope: %s %s: still running after %u s: stopping it\n",
				r->sc->prog, mode_names[r->fixed], RUN_TIMEOUT_S);
			kill(pid, SIGTERM);
			termed = true;
		} else if (termed && waited_ms >= (RUN_TIMEOUT_S + STOP_GRACE_S) * 1000U) {
			kill(pid, SIGKILL);
		}
	}
	if (termed)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void print_measured(FILE *out, const struct run *r)
{
	double ms, a, b;
	char lat[512];

	if (!strcmp(r->sc->name, "lifo") && json_num(r->json, "wake_to_run_ms", &ms) &&
	    json_num(r->json, "a_worker", &a) && json_num(r->json, "b_worker", &b))
		fprintf(out, "measured: task B waited %.3f ms from its wake to its run "
			"(woken on worker %.0f, ran on worker %.0f)\n", ms, a, b);
	else if (!strcmp(r->sc->name, "http") && json_array(r->json, "latencies_ms", lat, sizeof(lat))) {
		fprintf(out, "measured: request latencies ");
		for (const char *p = lat; *p; p++) {
			if (*p == ',')
				fputs(", ", out);
			else
				putc(*p, out);
		}
		fprintf(out, " ms (request 0 on the warm connection, the others on new ones)\n");
	} else {
		fprintf(out, "measured: %s\n", r->json);
	}
}

/* Steps 3-4, printed: the measurement, the detections, the timeline. */
static void show_run(struct run *r)
{
	struct ss_timeline_opts o = { 0 };
	struct ss_analysis a;
	char err[400], buf[2048];

	printf("\n-- %s (%s=%d): %s\n", mode_names[r->fixed], r->sc->env, r->fixed,
	       r->trace);
	if (r->pftrace[0])
		printf("perfetto: %s (open it in https://ui.perfetto.dev)\n", r->pftrace);
	else
		printf("perfetto: not exported (see %s)\n", r->log);
	print_measured(stdout, r);

	/* The timeline is drawn into memory first so that the detections,
	 * known only once the analysis is done, print above it. */
	char *tl = NULL;
	size_t tl_len = 0;
	FILE *mem = open_memstream(&tl, &tl_len);
	int ret = mem ? ss_timeline_render(mem, r->trace, &o, &a, err, sizeof(err))
		      : -errno;

	if (mem)
		fclose(mem);
	if (ret < 0) {
		fprintf(stderr, "stallscope: %s: %s\n", r->trace,
			mem ? err : strerror(-ret));
		if (mem)
			ss_analysis_free(&a);
		free(tl);
		r->ok = false;
		return;
	}
	r->ndets = a.ndets;
	r->kinds[0] = '\0';
	for (unsigned k = 0; k < SS_DET_NKINDS; k++) {
		for (size_t i = 0; i < a.ndets; i++) {
			if (a.dets[i].kind != k)
				continue;
			size_t n = strlen(r->kinds);
			snprintf(r->kinds + n, sizeof(r->kinds) - n, "%s%s",
				 n ? ", " : "", ss_det_kind_name(k));
			break;
		}
	}
	if (!a.ndets)
		printf("stalls found: none\n");
	else
		printf("stalls found: %zu\n", a.ndets);
	for (size_t i = 0; i < a.ndets; i++) {
		if (ss_detection_describe(&a.dets[i], &a, buf, sizeof(buf)) < 0)
			ss_timeline_det_label(&a.dets[i], buf, sizeof(buf));
		printf("  - %s\n", buf);
	}
	printf("\n%s", tl);
	free(tl);
	ss_analysis_free(&a);
}

/* One scenario, both ways; false if a run failed. */
static bool run_scenario(const struct scenario *sc, const char *dir,
			 const char *prog, const char *self, struct run runs[2])
{
	bool ok = true;

	for (int fixed = 0; fixed < 2; fixed++)
		runs[fixed] = (struct run){ .sc = sc, .fixed = fixed };
	printf("\n== %s ", sc->prog);
	for (size_t i = strlen(sc->prog); i < 66; i++)
		putchar('=');
	printf("\n%s\n", sc->about);
	for (int fixed = 0; fixed < 2 && !interrupted; fixed++) {
		struct run *r = &runs[fixed];
		char name[3][64];

		snprintf(name[0], sizeof(name[0]), "%s-%s.trace", sc->name, mode_names[fixed]);
		snprintf(name[1], sizeof(name[1]), "%s-%s.out", sc->name, mode_names[fixed]);
		snprintf(name[2], sizeof(name[2]), "%s-%s.log", sc->name, mode_names[fixed]);
		if (!path_join(r->trace, sizeof(r->trace), dir, name[0]) ||
		    !path_join(r->out, sizeof(r->out), dir, name[1]) ||
		    !path_join(r->log, sizeof(r->log), dir, name[2])) {
			fprintf(stderr, "stallscope: %s: path too long\n", dir);
			return false;
		}

		int status = record_run(r, self, prog);
		if (interrupted)
			break;
		last_line_with(r->out, "{\"scenario\":", r->json, sizeof(r->json));
		if (status != 0 || !r->json[0]) {
			fprintf(stderr, "stallscope: %s %s: %s; its log, %s:\n",
				sc->prog, mode_names[fixed],
				status != 0 ? "recording failed" :
					      "the example printed no result",
				r->log);
			show_log_tail(r->log, 4);
			ok = false;
			continue;
		}
		/* The same run for Perfetto's UI, next to the trace; the
		 * demo goes on without it if that fails (said in show_run). */
		snprintf(name[0], sizeof(name[0]), "%s-%s.pftrace", sc->name, mode_names[fixed]);
		if (!path_join(r->pftrace, sizeof(r->pftrace), dir, name[0]) ||
		    !export_run(r, self))
			r->pftrace[0] = '\0';
		r->ok = true;
		show_run(r);
		ok = ok && r->ok;
	}
	if (!runs[0].ok || !runs[1].ok || interrupted)
		return false;
	printf("\nlegacy: %s\nfixed:  %s\n", sc->legacy_why, sc->fixed_why);
	return ok;
}

/* "lifo-stall  legacy: 1 stall found (stuck_lifo); fixed: none. ..." */
static void conclude(const struct run runs[2])
{
	const struct scenario *sc = runs[0].sc;
	char lat[2][512];
	double v[2];

	printf("%-11s", sc->prog);
	for (int i = 0; i < 2; i++) {
		const struct run *r = &runs[i];

		printf("%s%s: ", i ? "; " : " ", mode_names[i]);
		if (!r->ok)
			printf("failed");
		else if (!r->ndets)
			printf("none");
		else
			printf("%zu stall%s found (%s)", r->ndets,
			       r->ndets == 1 ? "" : "s", r->kinds);
	}
	if (!runs[0].ok || !runs[1].ok) {
		printf("\n");
		return;
	}
	if (!strcmp(sc->name, "lifo") && json_num(runs[0].json, "wake_to_run_ms", &v[0]) &&
	    json_num(runs[1].json, "wake_to_run_ms", &v[1]))
		printf(".  task B waited %.3f ms vs %.3f ms\n", v[0], v[1]);
	else if (!strcmp(sc->name, "http") &&
		 json_array(runs[0].json, "latencies_ms", lat[0], sizeof(lat[0])) &&
		 json_array(runs[1].json, "latencies_ms", lat[1], sizeof(lat[1])))
		printf(".  slowest request %.1f ms vs %.1f ms\n", max_of(lat[0]),
		       max_of(lat[1]));
	else
		printf(".\n");
}

/* ---- the command ---------------------------------------------------------------------- */

int ss_demo_run(const char *which, const char *dir)
{
	struct run runs[NSCENARIOS][2];
	bool chosen[NSCENARIOS] = { 0 }, ok = true;
	static const char *const example_dirs[] = SS_EXAMPLE_DIRS;
	char self[PATH_MAX], defdir[64], *progs[NSCENARIOS] = { 0 };
	int ret;

	if (!which)
		which = "all";
	for (size_t i = 0; i < NSCENARIOS; i++)
		chosen[i] = !strcmp(which, "all") || !strcmp(which, scenarios[i].name);
	if (strcmp(which, "all") && !memchr(chosen, true, sizeof(chosen))) {
		fprintf(stderr, "stallscope: demo: no scenario %s (lifo, http or all)\n",
			which);
		return 2;
	}

	if (ss_prereq_prepare("demo"))
		return 2;
	int err = ss_self_exe(self, sizeof(self));
	if (err) {
		fprintf(stderr, "stallscope: cannot read /proc/self/exe: %s\n",
			strerror(-err));
		return 1;
	}
	for (size_t i = 0; i < NSCENARIOS; i++) {
		if (!chosen[i])
			continue;
		progs[i] = ss_self_find(example_dirs, scenarios[i].prog, X_OK);
		if (!progs[i]) {
			char *bin = strrchr(self, '/');	/* an absolute path */

			fprintf(stderr, "stallscope: no %s in %.*s/../libexec/stallscope/ or "
				"%.*s/: the demo runs the examples installed with stallscope "
				"(`make install`) or built next to it (`make`)\n",
				scenarios[i].prog, (int)(bin - self), self,
				(int)(bin - self), self);
			ok = false;
		}
	}
	if (!ok) {
		ret = 1;
		goto out;
	}

	if (!dir) {
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		strftime(defdir, sizeof(defdir), "./stallscope-demo-%Y%m%d-%H%M%S", &tm);
		dir = defdir;
	}
	struct stat st;
	if (!mkdir(dir, 0755)) {
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			(void)ss_give_to_sudo_user(fd);
			close(fd);
		}
	} else if (!(errno == EEXIST && !stat(dir, &st) && S_ISDIR(st.st_mode))) {
		fprintf(stderr, "stallscope: cannot create %s: %s\n", dir, strerror(errno));
		ret = 1;
		goto out;
	}
	printf("stallscope demo: traces and the examples' output go to %s\n", dir);

	/* Ctrl-C reaches the recorder too (it stops and ends its example);
	 * the demo then stops after it. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	for (size_t i = 0; i < NSCENARIOS && !interrupted; i++)
		if (chosen[i] && !run_scenario(&scenarios[i], dir, progs[i], self, runs[i]))
			ok = false;
	if (interrupted) {
		fprintf(stderr, "stallscope: demo interrupted; what was recorded is in %s\n", dir);
		ret = 1;
		goto out;
	}

	printf("\n== conclusion ");
	for (int i = 0; i < 56; i++)
		putchar('=');
	putchar('\n');
	for (size_t i = 0; i < NSCENARIOS; i++)
		if (chosen[i])
			conclude(runs[i]);
	printf("traces, the examples' output (.out) and the recorder's log (.log) are in %s\n",
	       dir);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "stallscope: cannot write the demo's output: %s\n",
			strerror(errno));
		ok = false;
	}
	ret = ok ? 0 : 1;
out:
	for (size_t i = 0; i < NSCENARIOS; i++)
		free(progs[i]);
	return ret;
}
