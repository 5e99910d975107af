# stallscope — the one Makefile.  `make help` lists the targets.
#
#   make                 build everything into $(BUILD)/
#   make check           install missing Debian packages, build, run all tests
#   make check-asan      the same under ASan+UBSan (build/asan)
#   make check-tsan      the same under TSan (build/tsan)
#   make bench           benchmarks (never part of check)
#   make demo            the stall scenarios, legacy vs fixed
#   make install         install what is built (PREFIX, DESTDIR); uninstall
#
# Knobs: V=1 shows commands, WERROR=1 adds -Werror (CI), BUILD=dir.

.DELETE_ON_ERROR:
.SUFFIXES:
.DEFAULT_GOAL := all

BUILD  ?= build
SAN    ?=
WERROR ?=
V      ?= 0

CC      := gcc
AR      := ar
CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
           -fno-omit-frame-pointer -pthread -fPIC -MMD -MP
LDFLAGS := -pthread
ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
ifeq ($(SAN),asan)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(SAN),tsan)
CFLAGS  += -fsanitize=thread -O1
LDFLAGS += -fsanitize=thread
endif

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2)
endif

RUNTIME_SRCS := $(wildcard runtime/*.c)
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(BUILD)/%.o)
# The same runtime with every probe compiled out: only bench/ uses it, to
# show what unattached probes cost.
NOPROBE_OBJS := $(RUNTIME_SRCS:%.c=$(BUILD)/noprobes/%.o)

# The tracer: BPF object -> skeleton -> the stallscope command.
BPF_DIR     := $(BUILD)/bpf
VMLINUX     := $(BPF_DIR)/vmlinux.h
BPF_OBJ     := $(BPF_DIR)/stallscope.bpf.o
BPF_SKEL    := $(BPF_DIR)/stallscope.skel.h
BPF_CFLAGS  := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall \
               -I$(BPF_DIR) -Ibpf -idirafter /usr/include/x86_64-linux-gnu
# What every program of the project shares (the option tables): stallscope,
# the examples and the benchmarks link it.
COMMON_SRCS := $(wildcard common/*.c)
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/%.o)
USERSPACE_SRCS := $(wildcard userspace/*.c)
USERSPACE_OBJS := $(USERSPACE_SRCS:%.c=$(BUILD)/%.o)
# The views (Perfetto/JSON export, live terminal timeline): part of stallscope.
VIZ_SRCS    := $(wildcard viz/*.c)
VIZ_OBJS    := $(VIZ_SRCS:%.c=$(BUILD)/%.o)
STALLSCOPE  := $(BUILD)/bin/stallscope
# Everything of stallscope but its main and the recorder (the one object
# that waits on the BPF skeleton), as an internal static library: the
# command links it, and so do the tests and tools, which take only the
# objects they use.
RECORDER_OBJS := $(BUILD)/userspace/recorder.o \
                 $(BUILD)/userspace/recorder_events.o $(BUILD)/userspace/recorder_attach.o
# watch's metrics endpoint parses requests with the example server's parser
# (fuzzed: fuzz_http_parse).
CORE_OBJS   := $(filter-out $(RECORDER_OBJS),$(USERSPACE_OBJS) $(VIZ_OBJS)) \
               $(BUILD)/examples/http/http_parse.o $(COMMON_OBJS)
# The subcommands, one file each (options and calls): only the command.
CMDS_SRCS   := $(wildcard cmds/*.c)
CMDS_OBJS   := $(CMDS_SRCS:%.c=$(BUILD)/%.o)
LIBCORE     := $(BUILD)/lib/libstallscope-core.a

# One version for the command and the runtime: SS_VERSION.  The shared
# runtime is libwsrt.so.VERSION, soname libwsrt.so.SOVERSION (a new
# SOVERSION whenever wsrt.h changes incompatibly), and libwsrt.so, the
# name -lwsrt links, points at the soname, in the build tree as installed.
VERSION        := $(shell sed -n 's/^\#define SS_VERSION "\(.*\)"/\1/p' userspace/cli.h)
WSRT_SOVERSION := 0
WSRT_SONAME    := libwsrt.so.$(WSRT_SOVERSION)
WSRT_REALNAME  := libwsrt.so.$(VERSION)
LIBWSRT     := $(BUILD)/lib/libwsrt.a
LIBWSRT_SO  := $(BUILD)/lib/libwsrt.so
LIBWSRT_SO_REAL := $(BUILD)/lib/$(WSRT_REALNAME)
LIBWSRT_NP  := $(BUILD)/noprobes/libwsrt.a

EXAMPLES    := $(BUILD)/bin/lifo-stall $(BUILD)/bin/http-stall
# The Tokio example (Rust): built offline by Debian's cargo and rustc against
# Debian's packaged crates (librust-tokio-dev), three ways: release (with
# line tables), fat LTO (symbols only), and release with tokio_unstable
# (for the no-LIFO control).  Not sanitized, so the ASan and TSan builds
# share the plain build's cargo directory.
TOKIO_DIR   := examples/tokio-lifo
TOKIO_SRCS  := $(TOKIO_DIR)/Cargo.toml $(TOKIO_DIR)/.cargo/config.toml \
               $(wildcard $(TOKIO_DIR)/src/*.rs $(TOKIO_DIR)/src/bin/*.rs)
TOKIO_BINS  := $(BUILD)/bin/tokio-lifo $(BUILD)/bin/tokio-lifo-lto \
               $(BUILD)/bin/tokio-lifo-unstable $(BUILD)/bin/tokio-http \
               $(BUILD)/bin/tokio-sched
CARGO_TARGET ?= $(abspath $(BUILD)/cargo)
# $(call cargo,ENV,ARGS): cargo build in the example's directory (its
# .cargo/config.toml: Debian's registry, offline).
cargo       = cd $(TOKIO_DIR) && $(1) RUSTC=/usr/bin/rustc CARGO_HOME=$(CARGO_TARGET)/home \
              /usr/bin/cargo build -q $(2)
HTTP_SRCS   := examples/http/http_parse.c
HTTP_STALL_SRCS := examples/http/http_server.c examples/http/http_client.c
# The trace file's reader and writer, which the fuzzers (clang, their own
# flags) compile themselves.
TRACE_SRCS  := userspace/trace_read.c userspace/trace_read_header.c userspace/trace_write.c userspace/blockwrite.c userspace/outfile.c userspace/ringdec.c userspace/ringpack.c userspace/schema.c userspace/schema_parse.c
TRACE_DEPS  := $(TRACE_SRCS) userspace/trace.h userspace/blockwrite.h userspace/outfile.h userspace/ringdec.h userspace/ringpack.h userspace/schema.h userspace/schema_int.h userspace/trace_int.h userspace/trace_read_int.h bpf/record.h bpf/ring.h
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_TESTS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BENCHES     := $(BUILD)/bench/sched $(BUILD)/bench/sched-noprobes \
               $(BUILD)/bench/syscall-tax $(BUILD)/bench/syscall_tax.bpf.o \
               $(BUILD)/bench/watch-replay
# libFuzzer targets (clang), one per parser of untrusted bytes.  Built with
# ASan+UBSan whatever SAN says, so only the plain build makes them.
FUZZERS     := $(BUILD)/fuzz/fuzz_http_parse $(BUILD)/fuzz/fuzz_trace_read \
               $(BUILD)/fuzz/fuzz_usdt_notes $(BUILD)/fuzz/fuzz_tokio_syms
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

include preload/preload.mk

.PHONY: all deps FORCE check check-asan check-tsan bench demo fuzz clean help \
        install uninstall

all: $(LIBWSRT) $(LIBWSRT_SO) $(EXAMPLES) $(TOKIO_BINS) $(STALLSCOPE) $(UNIT_TESTS) $(BENCHES) \
     $(BUILD)/tests/mktrace $(BUILD)/tests/usdt-probes $(BUILD)/tests/ring-edges \
     $(BUILD)/tests/ready-rule \
     $(PRELOAD_TARGETS) $(if $(SAN),,$(FUZZERS))

deps:
	$(Q)scripts/deps.sh

# What is compiled is out of date when the flags it was compiled with
# change: `make demo` then `make check WERROR=1` in one tree compiles again,
# with -Werror (it did not, and a warning reached CI unseen), and back.
# The stamp is rewritten only when its text changes, so an unchanged build
# stays built.
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_NOW   := $(CC) $(CFLAGS) $(LDFLAGS) $(BPF_CFLAGS) WERROR=$(WERROR)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '$(FLAGS_NOW)' | cmp -s - $@ || printf '%s\n' '$(FLAGS_NOW)' > $@

FORCE:

# deps is order-only: it runs first, and never makes anything out of date.
$(BUILD)/runtime/%.o: runtime/%.c | deps
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Iruntime -c $< -o $@

$(BUILD)/noprobes/runtime/%.o: runtime/%.c | deps
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -DWSRT_NO_PROBES -Iruntime -c $< -o $@

# vmlinux.h comes from this machine's kernel BTF; never committed.
$(VMLINUX): | deps
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BPF_OBJ): bpf/stallscope.bpf.c $(wildcard bpf/*.bpf.h) bpf/record.h bpf/ring.h bpf/usdt_spec.h $(VMLINUX)
	$(call msg,BPF,$@)
	$(Q)clang $(BPF_CFLAGS) $(if $(filter 1,$(WERROR)),-Werror) -c $< -o $@
	$(Q)llvm-strip -g $@

$(BPF_SKEL): $(BPF_OBJ)
	$(call msg,SKEL,$@)
	$(Q)bpftool gen skeleton $< > $@

$(BUILD)/userspace/%.o: userspace/%.c | deps
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -I$(BPF_DIR) -c $< -o $@

$(BUILD)/common/%.o: common/%.c | deps
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Icommon -c $< -o $@

$(BUILD)/examples/http/%.o: examples/http/%.c | deps
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Iexamples -c $< -o $@

# Only the recorder includes the skeleton (order-only here: its .d has it).
$(RECORDER_OBJS): | $(BPF_SKEL)

$(BUILD)/cmds/%.o: cmds/%.c | deps
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Iviz -c $< -o $@

$(BUILD)/viz/%.o: viz/%.c | deps
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Iviz -c $< -o $@

$(LIBCORE): $(CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(STALLSCOPE): $(CMDS_OBJS) $(RECORDER_OBJS) $(LIBCORE)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CMDS_OBJS) $(RECORDER_OBJS) $(LIBCORE) $(LDFLAGS) -lbpf -ldw -lelf -lz -lncursesw -liberty -o $@

$(LIBWSRT): $(RUNTIME_OBJS)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIBWSRT_NP): $(NOPROBE_OBJS)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIBWSRT_SO_REAL): $(RUNTIME_OBJS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -shared -Wl,--no-undefined -Wl,-soname,$(WSRT_SONAME) $(LDFLAGS) -o $@ $^

# The links are as new as what they point at (make follows them).
$(BUILD)/lib/$(WSRT_SONAME): $(LIBWSRT_SO_REAL)
	$(Q)ln -sfn $(WSRT_REALNAME) $@

$(LIBWSRT_SO): $(BUILD)/lib/$(WSRT_SONAME)
	$(Q)ln -sfn $(WSRT_SONAME) $@

$(BUILD)/bin/%: examples/%.c $(COMMON_OBJS) $(LIBWSRT)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iruntime $< $(COMMON_OBJS) $(LIBWSRT) $(LDFLAGS) -o $@

$(BUILD)/bin/http-stall: examples/http-stall.c $(HTTP_SRCS) $(HTTP_STALL_SRCS) $(wildcard examples/http/*.h) $(COMMON_OBJS) $(LIBWSRT)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iruntime -Iexamples $< $(HTTP_SRCS) $(HTTP_STALL_SRCS) $(COMMON_OBJS) $(LIBWSRT) $(LDFLAGS) -o $@

$(BUILD)/tests/test_http_parse: tests/unit/test_http_parse.c $(HTTP_SRCS) examples/http/http_parse.h tests/harness.c tests/harness.h
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Iexamples -Itests $< $(HTTP_SRCS) tests/harness.c $(LDFLAGS) -o $@

$(BUILD)/tests/test_trace: tests/unit/test_trace.c $(LIBCORE) tests/harness.c tests/harness.h
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Itests $< tests/harness.c $(LIBCORE) $(LDFLAGS) -o $@

# The live view's model: no terminal, no analyzer (tests/unit/test_live_model.c).
$(BUILD)/tests/test_live_model: tests/unit/test_live_model.c $(LIBCORE) tests/harness.c tests/harness.h
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Iviz -Itests $< tests/harness.c $(LIBCORE) $(LDFLAGS) -o $@

# The event rings: the runtime's writer against userspace's decoder.
$(BUILD)/tests/test_ring: tests/unit/test_ring.c $(LIBCORE) tests/harness.c tests/harness.h $(LIBWSRT)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iruntime -Iuserspace -Itests $< tests/harness.c $(LIBCORE) $(LIBWSRT) $(LDFLAGS) -o $@

$(BUILD)/tests/test_lanes: tests/unit/test_lanes.c $(LIBCORE) tests/harness.c tests/harness.h
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Itests $< tests/harness.c $(LIBCORE) $(LDFLAGS) -o $@

# The trace file's writer threads alone (userspace/blockwrite.c).
$(BUILD)/tests/test_blockwrite: tests/unit/test_blockwrite.c $(LIBCORE) tests/harness.c tests/harness.h
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Itests $< tests/harness.c $(LIBCORE) $(LDFLAGS) -o $@

$(BUILD)/tests/test_ringrec: tests/unit/test_ringrec.c $(LIBCORE) tests/harness.c tests/harness.h
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Itests $< tests/harness.c $(LIBCORE) $(LDFLAGS) -o $@

# The flight recorder's window (userspace/window.c).
$(BUILD)/tests/test_window: tests/unit/test_window.c $(LIBCORE) tests/harness.c tests/harness.h
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Itests $< tests/harness.c $(LIBCORE) $(LDFLAGS) -o $@

$(BUILD)/tests/test_metrics: tests/unit/test_metrics.c $(LIBCORE) tests/harness.c tests/harness.h
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Itests $< tests/harness.c $(LIBCORE) $(LDFLAGS) -ldw -lelf -liberty -o $@

# The analyzer's reordering alone (its internal header).
$(BUILD)/tests/test_reorder: tests/unit/test_reorder.c $(LIBCORE) tests/harness.c tests/harness.h
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Itests $< tests/harness.c $(LIBCORE) $(LDFLAGS) -ldw -lelf -liberty -o $@

$(BUILD)/tests/test_pb: tests/unit/test_pb.c viz/pb.c viz/pb.h tests/harness.c tests/harness.h
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Iviz -Itests $< viz/pb.c tests/harness.c $(LDFLAGS) -o $@

# The USDT note reader alone, on a program with probes of every argument
# form and a semaphore (tests/tools/usdt_probes.c), which
# tests/scenario/usdt.sh also records.  Built without sanitizers, like the
# shim: its probes pin registers, and nothing in it needs checking.
USDT_PROBES := $(BUILD)/tests/usdt-probes
$(USDT_PROBES): tests/tools/usdt_probes.c tests/tools/usdt_probes_sema.c tests/tools/usdt_probes.h | deps
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(filter-out -fsanitize=% -fno-sanitize%,$(CFLAGS)) -Itests/tools \
		tests/tools/usdt_probes.c tests/tools/usdt_probes_sema.c \
		$(filter-out -fsanitize=%,$(LDFLAGS)) -o $@

# Reads the Tokio example's builds and lifo-stall (a binary without Tokio).
$(BUILD)/tests/test_tokio_syms: tests/unit/test_tokio_syms.c $(LIBCORE) tests/harness.c tests/harness.h | $(TOKIO_BINS) $(BUILD)/bin/lifo-stall
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Itests $< tests/harness.c $(LIBCORE) $(LDFLAGS) -ldw -lelf -o $@

$(BUILD)/tests/test_usdt: tests/unit/test_usdt.c $(LIBCORE) tests/harness.c tests/harness.h | $(USDT_PROBES)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Itests $< tests/harness.c $(LIBCORE) $(LDFLAGS) -lelf -o $@

# A wsrt program for the rings' edge cases (tests/scenario/rings.sh).
$(BUILD)/tests/ring-edges: tests/tools/ring_edges.c $(LIBWSRT)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Iruntime $< $(LIBWSRT) $(LDFLAGS) -o $@

# Readiness worth a record, case by case (tests/scenario/record.sh).
$(BUILD)/tests/ready-rule: tests/tools/ready_rule.c | deps
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(LDFLAGS) -lpthread -o $@

GOLDEN_TEXT := tests/tools/golden_text.c tests/tools/golden_text.h

$(BUILD)/tests/mktrace: tests/tools/mktrace.c $(GOLDEN_TEXT) $(LIBCORE)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Itests/tools $< tests/tools/golden_text.c $(LIBCORE) $(LDFLAGS) -o $@

# The analyzer on the golden streams, read with mktrace's reader and fed
# to it directly (no trace file, no JSON).
$(BUILD)/tests/test_analyze: tests/unit/test_analyze.c $(GOLDEN_TEXT) $(LIBCORE) tests/harness.c tests/harness.h
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace -Itests -Itests/tools -DGOLDEN_DIR='"$(CURDIR)/tests/golden"' \
		$< tests/tools/golden_text.c tests/harness.c $(LIBCORE) $(LDFLAGS) -ldw -lelf -liberty -o $@

# Command lines as tables (common/opts.c).
$(BUILD)/tests/test_opts: tests/unit/test_opts.c $(COMMON_OBJS) tests/harness.c tests/harness.h
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Itests $< tests/harness.c $(COMMON_OBJS) $(LDFLAGS) -o $@

$(BUILD)/tests/%: tests/unit/%.c tests/harness.c tests/harness.h $(LIBWSRT)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Iruntime -Itests $< tests/harness.c $(LIBWSRT) $(LDFLAGS) -o $@

$(BUILD)/bench/sched: bench/sched.c bench/sched_shapes.c bench/sched.h $(COMMON_OBJS) $(LIBWSRT)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iruntime bench/sched.c bench/sched_shapes.c $(COMMON_OBJS) $(LIBWSRT) $(LDFLAGS) -o $@

# bench/analyze_bench.sh: watch's window and analyzer on a recorded trace (watch_replay.c).
$(BUILD)/bench/watch-replay: bench/watch_replay.c $(LIBCORE)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I. -Iuserspace $< $(LIBCORE) $(LDFLAGS) -ldw -lelf -liberty -o $@

# bench/syscall_tax.sh: a getppid loop, and a loader of empty syscall hooks.
$(BUILD)/bench/syscall-tax: bench/syscall_tax.c | deps
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(LDFLAGS) -lbpf -o $@

$(BUILD)/bench/syscall_tax.bpf.o: bench/syscall_tax.bpf.c $(VMLINUX)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(BPF_CFLAGS) $(if $(filter 1,$(WERROR)),-Werror) -c $< -o $@

$(BUILD)/bench/sched-noprobes: bench/sched.c bench/sched_shapes.c bench/sched.h $(COMMON_OBJS) $(LIBWSRT_NP)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -DWSRT_NO_PROBES -I. -Iruntime bench/sched.c bench/sched_shapes.c $(COMMON_OBJS) $(LIBWSRT_NP) $(LDFLAGS) -o $@

$(BUILD)/fuzz/fuzz_http_parse: tests/fuzz/fuzz_http_parse.c tests/fuzz/fuzz.h $(HTTP_SRCS) examples/http/http_parse.h | deps
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(if $(filter 1,$(WERROR)),-Werror) -Wall -Wextra -I. -Iexamples $< $(HTTP_SRCS) -o $@

$(BUILD)/fuzz/fuzz_trace_read: tests/fuzz/fuzz_trace_read.c tests/fuzz/fuzz.h $(TRACE_DEPS) | deps
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(if $(filter 1,$(WERROR)),-Werror) -Wall -Wextra -I. -Iuserspace $< $(TRACE_SRCS) -o $@

$(BUILD)/fuzz/fuzz_usdt_notes: tests/fuzz/fuzz_usdt_notes.c tests/fuzz/fuzz.h userspace/usdt.c userspace/usdt.h userspace/elf_file.c userspace/elf_file.h bpf/usdt_spec.h | deps
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(if $(filter 1,$(WERROR)),-Werror) -Wall -Wextra -I. -Iuserspace $< userspace/usdt.c userspace/elf_file.c -lelf -o $@

$(BUILD)/bin/tokio-lifo: $(TOKIO_SRCS) | deps
	$(call msg,CARGO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(call cargo,,--release --features http --target-dir $(CARGO_TARGET)/plain)
	$(Q)cp $(CARGO_TARGET)/plain/release/tokio-lifo $@

# (built with tokio-lifo: the same cargo run)
$(BUILD)/bin/tokio-http: $(BUILD)/bin/tokio-lifo
	$(Q)cp $(CARGO_TARGET)/plain/release/tokio-http $@

$(BUILD)/bin/tokio-sched: $(BUILD)/bin/tokio-lifo
	$(Q)cp $(CARGO_TARGET)/plain/release/tokio-sched $@

$(BUILD)/bin/tokio-lifo-lto: $(TOKIO_SRCS) | deps
	$(call msg,CARGO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(call cargo,,--profile fat-lto --bin tokio-lifo --target-dir $(CARGO_TARGET)/plain)
	$(Q)cp $(CARGO_TARGET)/plain/fat-lto/tokio-lifo $@

$(BUILD)/bin/tokio-lifo-unstable: $(TOKIO_SRCS) | deps
	$(call msg,CARGO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(call cargo,RUSTFLAGS="--cfg tokio_unstable",--release --bin tokio-lifo --target-dir $(CARGO_TARGET)/unstable)
	$(Q)cp $(CARGO_TARGET)/unstable/release/tokio-lifo $@

$(BUILD)/fuzz/fuzz_tokio_syms: tests/fuzz/fuzz_tokio_syms.c tests/fuzz/fuzz.h userspace/tokio_syms.c userspace/tokio_syms.h userspace/elf_file.c userspace/elf_file.h | deps
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(if $(filter 1,$(WERROR)),-Werror) -Wall -Wextra -I. -Iuserspace $< userspace/tokio_syms.c userspace/elf_file.c -ldw -lelf -o $@

# Longer fuzzing than check's smoke run: FUZZ_SECONDS per target.
fuzz: $(FUZZERS)
	$(Q)FUZZ_SECONDS=$${FUZZ_SECONDS:-300} tests/fuzz/run.sh $(BUILD)

check: all
	$(Q)tests/run.sh $(BUILD) $(SAN)

check-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SAN=asan CARGO_TARGET=$(abspath build/cargo) check

check-tsan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/tsan SAN=tsan CARGO_TARGET=$(abspath build/cargo) check

bench: $(BENCHES) $(BUILD)/bin/http-stall $(TOKIO_BINS) $(STALLSCOPE) | deps
	$(Q)bench/run.sh $(BUILD)
	$(Q)bench/probe_cost.sh $(BUILD)
	$(Q)bench/http_wrk.sh $(BUILD)
	$(Q)bench/record_cost.sh $(BUILD)
	$(Q)bench/syscall_tax.sh $(BUILD)
	$(Q)bench/record_http.sh $(BUILD)
	$(Q)bench/record_cpu.sh $(BUILD)
	$(Q)bench/record_latency.sh $(BUILD)
	$(Q)bench/analyze_bench.sh $(BUILD)
	$(Q)bench/tokio_cost.sh $(BUILD)
	$(Q)bench/vs_tokio.sh $(BUILD)

# The main job: both scenarios recorded legacy vs fixed, analyzed (root).
demo: all
	$(Q)$(STALLSCOPE) demo all

# ---- make install / make uninstall ----------------------------------------
# PREFIX (default /usr/local) and DESTDIR as packagers expect; BINDIR,
# LIBDIR, INCLUDEDIR, MANDIR and PKGCONFIGDIR may be set one by one.
# Installs what is built (run `make` first; the sanitizer builds install
# with BUILD=build/asan SAN=asan) and builds nothing itself when that is
# up to date.  stallscope finds its shim and the examples `demo` runs from
# its own location (userspace/self.c: BIN/../lib, BIN/../libexec/stallscope),
# so those two directories follow BINDIR and are not knobs.
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SHIMDIR      := $(dir $(BINDIR:%/=%))lib
EXAMPLEDIR   := $(dir $(BINDIR:%/=%))libexec/stallscope
INSTALL      ?= install
MAN_PAGES    := $(wildcard man/*.1)
# What install writes, for uninstall to remove exactly that.
INSTALLED    := $(BINDIR)/stallscope $(SHIMDIR)/$(notdir $(PRELOAD_SO)) \
                $(LIBDIR)/libwsrt.a $(LIBDIR)/$(WSRT_REALNAME) \
                $(LIBDIR)/$(WSRT_SONAME) $(LIBDIR)/libwsrt.so \
                $(INCLUDEDIR)/wsrt.h $(PKGCONFIGDIR)/wsrt.pc \
                $(addprefix $(EXAMPLEDIR)/,$(notdir $(EXAMPLES))) \
                $(addprefix $(MANDIR)/man1/,$(notdir $(MAN_PAGES)))

# A directory for wsrt.pc: under ${prefix} when it is (relocatable).
pc_dir = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

install: $(STALLSCOPE) $(PRELOAD_SO) $(LIBWSRT) $(LIBWSRT_SO_REAL) $(EXAMPLES) \
         $(MAN_PAGES) runtime/wsrt.h runtime/wsrt.pc.in
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(SHIMDIR)' '$(DESTDIR)$(LIBDIR)' \
		'$(DESTDIR)$(INCLUDEDIR)' '$(DESTDIR)$(PKGCONFIGDIR)' '$(DESTDIR)$(EXAMPLEDIR)' \
		'$(DESTDIR)$(MANDIR)/man1'
	$(Q)$(INSTALL) -m 755 $(STALLSCOPE) '$(DESTDIR)$(BINDIR)/'
	$(Q)$(INSTALL) -m 644 $(PRELOAD_SO) '$(DESTDIR)$(SHIMDIR)/'
	$(Q)$(INSTALL) -m 644 $(LIBWSRT) '$(DESTDIR)$(LIBDIR)/'
	$(Q)$(INSTALL) -m 644 $(LIBWSRT_SO_REAL) '$(DESTDIR)$(LIBDIR)/'
	$(Q)ln -sfn $(WSRT_REALNAME) '$(DESTDIR)$(LIBDIR)/$(WSRT_SONAME)'
	$(Q)ln -sfn $(WSRT_SONAME) '$(DESTDIR)$(LIBDIR)/libwsrt.so'
	$(Q)$(INSTALL) -m 644 runtime/wsrt.h '$(DESTDIR)$(INCLUDEDIR)/'
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call pc_dir,$(LIBDIR))|' \
		-e 's|@INCLUDEDIR@|$(call pc_dir,$(INCLUDEDIR))|' -e 's|@VERSION@|$(VERSION)|' \
		runtime/wsrt.pc.in > '$(DESTDIR)$(PKGCONFIGDIR)/wsrt.pc'
	$(Q)chmod 644 '$(DESTDIR)$(PKGCONFIGDIR)/wsrt.pc'
	$(Q)$(INSTALL) -m 755 $(EXAMPLES) '$(DESTDIR)$(EXAMPLEDIR)/'
	$(Q)$(INSTALL) -m 644 $(MAN_PAGES) '$(DESTDIR)$(MANDIR)/man1/'
	$(Q)if [ -z '$(DESTDIR)' ] && [ "$$(id -u)" = 0 ]; then ldconfig; fi

# Only what install wrote, and the examples' directory once empty.
uninstall:
	$(call msg,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(foreach f,$(INSTALLED),'$(DESTDIR)$(f)')
	$(Q)if [ -d '$(DESTDIR)$(EXAMPLEDIR)' ]; then rmdir --ignore-fail-on-non-empty '$(DESTDIR)$(EXAMPLEDIR)'; fi
	$(Q)if [ -z '$(DESTDIR)' ] && [ "$$(id -u)" = 0 ]; then ldconfig; fi

clean:
	rm -rf build

help:
	@echo 'targets:'
	@echo '  all          build the runtime, examples and tests into $(BUILD)/ (default)'
	@echo '  deps         install the Debian packages the project needs (only missing ones)'
	@echo '  check        build and run every test; last line: N passed, N failed'
	@echo '  check-asan   check under AddressSanitizer + UBSan (build/asan)'
	@echo '  check-tsan   check under ThreadSanitizer (build/tsan)'
	@echo '  bench        scheduler benchmarks, both LIFO modes, probes vs none'
	@echo '  demo         record the stall scenarios legacy vs fixed and show the stalls (root)'
	@echo '  fuzz         run every fuzz target for FUZZ_SECONDS (default 300) each'
	@echo '  install      install the built command, shim, libwsrt (+ wsrt.h, wsrt.pc),'
	@echo '               examples and man pages under $$(DESTDIR)$$(PREFIX) (default /usr/local)'
	@echo '  uninstall    remove exactly what install put there'
	@echo '  clean        remove build/'
	@echo 'knobs: V=1 (show commands) WERROR=1 (warnings are errors) BUILD=dir'
	@echo '       PREFIX, DESTDIR, BINDIR, LIBDIR, INCLUDEDIR, MANDIR, PKGCONFIGDIR (install)'

# Everything compiled with the flags above, or with -Werror as WERROR says
# (the fuzzers); not the Rust programs (cargo's and rustc's flags).
$(RUNTIME_OBJS) $(NOPROBE_OBJS) $(USERSPACE_OBJS) $(VIZ_OBJS) $(COMMON_OBJS) \
$(CMDS_OBJS) $(BUILD)/examples/http/http_parse.o $(BPF_OBJ) $(EXAMPLES) \
$(UNIT_TESTS) $(BENCHES) $(BUILD)/tests/mktrace $(USDT_PROBES) \
$(BUILD)/tests/ring-edges $(BUILD)/tests/ready-rule $(PRELOAD_OBJS) \
$(PRELOAD_TDIR)/libearly.so $(PRELOAD_TDIR)/libnext.so \
$(PRELOAD_TDIR)/transparency $(PRELOAD_BENCH) $(FUZZERS): $(FLAGS_STAMP)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
