/* SPDX-License-Identifier: MIT */
/*
 * Fault injection: STALLSCOPE_FAULTS=spurious_wake:P,eintr:P,delay_us:N,seed:S
 * (any subset, any order; `=` works as well as `:`; all off by default).
 *
 *   spurious_wake:P  a futex wait (FUTEX_WAIT, FUTEX_WAIT_BITSET) or a
 *                    pthread_cond_*wait returns with probability P as if
 *                    spuriously woken
 *   eintr:P          a blocking epoll_wait / epoll_pwait / epoll_pwait2
 *                    fails with EINTR with probability P
 *   delay_us:N       every park is delayed by a uniform 0..N µs, before the
 *                    wait or after it (a coin decides)
 *   seed:S           the random streams' seed (default 1): each thread
 *                    draws from its own stream, seeded from S and the order
 *                    in which threads first drew
 *
 * Owns: parsing the variable, the per-thread random streams, the
 * decisions and the sleep.  Does not own: what an injected fault does to
 * a call (the wrappers), which is always something the real call may do
 * itself — a futex or condvar wait may return 0 at any time, a blocking
 * epoll wait may fail with EINTR (signal(7): even without handlers, after
 * SIGSTOP/SIGCONT), and any thread may be preempted for a while.  So a
 * correct program survives every fault, only slower.
 *
 * Parsing happens once, in shim_init(); a bad item is reported on stderr
 * (one line) and ignored, the others still apply.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#define PPM 1000000U
#define MAX_DELAY_US 10000000U	/* 10 s: beyond that it is a hang */

struct shim_faults shim_faults;

static SHIM_TLS uint64_t rng;	/* this thread's xorshift64* state, 0 = unseeded */
static uint64_t next_stream;	/* streams handed out so far */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t draw(void)
{
	uint64_t x = rng;

	if (shim_unlikely(!x)) {
		uint64_t stream = __atomic_fetch_add(&next_stream, 1,
						     __ATOMIC_RELAXED);
		x = splitmix64(shim_faults.seed ^ splitmix64(stream));
		if (!x)
			x = 1;
	}
	/* xorshift64* (Vigna 2016), multiplier from the paper. */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* true with probability ppm / 10^6 */
static bool chance(uint32_t ppm)
{
	if (!ppm)
		return false;
	return (draw() >> 32) * PPM < (uint64_t)ppm << 32;
}

bool shim_fault_spurious(void)
{
	return chance(shim_faults.spurious_ppm);
}

bool shim_fault_eintr(void)
{
	return chance(shim_faults.eintr_ppm);
}

unsigned shim_fault_delay(bool *after)
{
	uint64_t r = draw();

	*after = r & 1;
	return (unsigned)((r >> 1) % ((uint64_t)shim_faults.delay_us + 1));
}

void shim_sleep_us(unsigned us)
{
	struct timespec ts = { (time_t)(us / 1000000U),
			       (long)(us % 1000000U) * 1000L };

	/* Raw: not a cancellation point (syscall(SYS_futex) isn't one), and
	 * errno stays the wait's.  A signal cuts it short: fine. */
	shim_raw_syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, (long)&ts, 0,
			 0, 0);
}

/* ---- parsing ---------------------------------------------------------------------------- */

static void complain(const char *item, size_t len, const char *why)
{
	char buf[256];
	size_t n = 0;
	const char *parts[] = { "stallscope-preload: STALLSCOPE_FAULTS: ignoring '",
				NULL, "': ", why, "\n" };

	for (unsigned i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const char *s = parts[i] ? parts[i] : item;
		size_t l = parts[i] ? strlen(s) : len;
		if (l > sizeof(buf) - n)
			l = sizeof(buf) - n;
		memcpy(buf + n, s, l);
		n += l;
	}
	ssize_t w = write(2, buf, n);
	(void)w;
}

/* A probability "0", "1", "0.25", ".5", "1.0" as parts per million
 * (digits past the sixth decimal are dropped). */
static bool parse_ppm(const char *s, size_t len, uint32_t *out)
{
	uint64_t whole = 0, frac = 0, scale = PPM;
	size_t i = 0, digits = 0;

	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		whole = whole * 10 + (uint64_t)(s[i] - '0');
		if (whole > 1)
			return false;
	}
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
			scale /= 10;
			frac += (uint64_t)(s[i] - '0') * scale;
		}
	}
	if (i != len || !digits || (whole == 1 && frac))
		return false;
	*out = (uint32_t)(whole * PPM + frac);
	return true;
}

static bool parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!len || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static bool key_is(const char *s, size_t len, const char *key)
{
	return len == strlen(key) && !memcmp(s, key, len);
}

void shim_faults_init(const char *spec)
{
	struct shim_faults f = { .seed = 1 };

	while (spec && *spec) {
		size_t len = strcspn(spec, ","), klen = strcspn(spec, ":=");
		const char *val = spec + klen + 1;
		size_t vlen = klen < len ? len - klen - 1 : 0;
		uint64_t v;
		uint32_t ppm;

		if (!len) {
			spec++;
			continue;
		}
		if (klen >= len)
			complain(spec, len, "want KEY:VALUE");
		else if (key_is(spec, klen, "spurious_wake")) {
			if (parse_ppm(val, vlen, &ppm))
				f.spurious_ppm = ppm;
			else
				complain(spec, len, "want a probability between 0 and 1");
		} else if (key_is(spec, klen, "eintr")) {
			if (parse_ppm(val, vlen, &ppm))
				f.eintr_ppm = ppm;
			else
				complain(spec, len, "want a probability between 0 and 1");
		} else if (key_is(spec, klen, "delay_us")) {
			if (parse_u64(val, vlen, MAX_DELAY_US, &v))
				f.delay_us = (uint32_t)v;
			else
				complain(spec, len, "want microseconds, at most 10000000");
		} else if (key_is(spec, klen, "seed")) {
			if (parse_u64(val, vlen, UINT64_MAX, &v))
				f.seed = v;
			else
				complain(spec, len, "want an unsigned integer");
		} else {
			complain(spec, len, "unknown; want spurious_wake, eintr, delay_us or seed");
		}
		spec += len;
	}
	f.on = f.spurious_ppm || f.eintr_ppm || f.delay_us;
	shim_faults = f;
}
