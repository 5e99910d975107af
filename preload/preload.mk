# SPDX-License-Identifier: MIT
# The LD_PRELOAD shim: libstallscope-preload.so, the programs its tests run
# under it, and its benchmark.  Included by the top-level Makefile, whose
# variables it uses (BUILD, CC, CFLAGS, LDFLAGS, Q, msg, SAN); everything
# it builds is in PRELOAD_TARGETS, which `all` builds.
#
# The shim goes into programs that know nothing of sanitizers, so it is
# never instrumented, whatever SAN says; nor are the programs that test it
# (an ASan program refuses a library preloaded ahead of its runtime).  The
# sanitizer builds still build and test it: tests/scenario/preload.sh.

PRELOAD_SRCS    := $(wildcard preload/*.c)
# The shim's own copy of the event rings (runtime/ring.c, provider stallscope).
PRELOAD_OBJS    := $(PRELOAD_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/preload/ring.o
PRELOAD_SO      := $(BUILD)/lib/libstallscope-preload.so
PRELOAD_CFLAGS  := $(filter-out -fsanitize=% -fno-sanitize%,$(CFLAGS))
PRELOAD_LDFLAGS := $(filter-out -fsanitize=%,$(LDFLAGS))
PRELOAD_TDIR    := $(BUILD)/tests/preload
PRELOAD_BENCH   := $(BUILD)/bench/preload-cost
# The foreign program is built with the machine's Rust compiler, std only.
RUSTC           ?= rustc

PRELOAD_TARGETS := $(PRELOAD_SO) $(PRELOAD_TDIR)/libearly.so \
                   $(PRELOAD_TDIR)/libnext.so $(PRELOAD_TDIR)/transparency \
                   $(PRELOAD_TDIR)/rust-parks $(PRELOAD_BENCH)

.PHONY: bench-preload

# Hidden visibility: only the interposed symbols (SHIM_EXPORT) leave the
# library; preload.map versions the two condvar waits glibc has twice.
$(BUILD)/preload/%.o: preload/%.c | deps
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(PRELOAD_CFLAGS) -fvisibility=hidden -c $< -o $@

$(BUILD)/preload/ring.o: runtime/ring.c | deps
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(PRELOAD_CFLAGS) -fvisibility=hidden -DSS_RING_PROVIDER=stallscope \
		-DSS_RING_DEFAULT_KB=64 -c $< -o $@

$(PRELOAD_SO): $(PRELOAD_OBJS) preload/preload.map
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -shared -Wl,--no-undefined -Wl,-z,now -Wl,-z,relro \
		-Wl,-soname,libstallscope-preload.so \
		-Wl,--version-script=preload/preload.map \
		$(PRELOAD_LDFLAGS) -o $@ $(PRELOAD_OBJS)

# A library whose constructor parks and starts a thread before main (and,
# being a dependency of the program, may run before the shim's own).
$(PRELOAD_TDIR)/libearly.so: tests/preload/early.c | deps
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(PRELOAD_CFLAGS) -shared -Wl,--no-undefined \
		-Wl,-soname,libearly.so -o $@ $< $(PRELOAD_LDFLAGS)

# An interposer preloaded after the shim, as a sanitizer runtime is.
$(PRELOAD_TDIR)/libnext.so: tests/preload/next.c | deps
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(PRELOAD_CFLAGS) -shared -Wl,--no-undefined \
		-Wl,-soname,libnext.so -o $@ $< $(PRELOAD_LDFLAGS)

$(PRELOAD_TDIR)/transparency: tests/preload/transparency.c $(PRELOAD_TDIR)/libearly.so
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(PRELOAD_CFLAGS) $< -L$(PRELOAD_TDIR) -learly \
		-Wl,-rpath,'$$ORIGIN' $(PRELOAD_LDFLAGS) -o $@

$(PRELOAD_TDIR)/rust-parks: tests/preload/rust_parks.rs | deps
	$(call msg,RUSTC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)command -v $(RUSTC) >/dev/null || \
		{ echo "preload.mk: $(RUSTC) not found: the shim's foreign-program test needs a Rust compiler (apt-get install rustc)" >&2; exit 1; }
	$(Q)$(RUSTC) --edition 2021 -O -C debuginfo=0 -o $@ $<

$(PRELOAD_BENCH): bench/preload_cost.c | deps
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(PRELOAD_CFLAGS) $< $(PRELOAD_LDFLAGS) -o $@

# The shim's per-call cost: plain, preloaded, preloaded and recorded.
bench-preload: $(PRELOAD_BENCH) $(PRELOAD_SO) $(STALLSCOPE) | deps
	$(Q)bench/preload_cost.sh $(BUILD)

bench: bench-preload
