# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# The benchmark tools (tests/bench), included by the top-level Makefile.
# They are test programs run by whoever runs `make bench`; none of them
# is installed or linked into bailey.
#
#   make bench-tools        load generator + fake backend into $(BUILD)/bench
#   make bench-selftest     their parser unit test, corpus replay and smoke,
#                           and pbsd_bench.py's self-test
#   make bench [QUICK=1]    the benchmark itself (scripts/bench.sh)
#
# Provides: BENCH_BINS, BENCH_UNIT_BINS (the parser unit test, for a
# UNIT_BINS line), BENCH_REPLAY_BINS (its corpus replayer; the corpus is
# tests/bench/corpus/benchproto).

# Leave the including Makefile's default goal alone (restored at the end).
BENCH_SAVED_GOAL := $(.DEFAULT_GOAL)

BENCH_DIR	= $(BUILD)/bench
BENCH_LIBOBJS	= $(BUILD)/lib/buf.o $(BUILD)/lib/log.o \
		  $(BUILD)/tests/bench/benchproto.o
BENCH_SSL_LIBS	= $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null || \
		    echo -lssl -lcrypto)
BENCH_BINS	= $(BENCH_DIR)/loadgen $(BENCH_DIR)/fakebackend
BENCH_TEST	= $(BENCH_DIR)/test_benchproto
BENCH_REPLAY	= $(BENCH_DIR)/replay_benchproto
BENCH_UNIT_BINS	= $(BENCH_TEST)
BENCH_REPLAY_BINS = $(BENCH_REPLAY)

# QUICK=1 and BENCH_ARGS reach scripts/bench.sh through the environment.
export QUICK BENCH_ARGS

.PHONY: bench-tools bench-selftest

bench-tools: $(BENCH_BINS)

bench: bench-tools

$(BENCH_DIR)/loadgen: $(BUILD)/tests/bench/loadgen.o $(BENCH_LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^ $(BENCH_SSL_LIBS)

$(BENCH_DIR)/fakebackend: $(BUILD)/tests/bench/fakebackend.o $(BENCH_LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^

$(BENCH_TEST): $(BUILD)/tests/bench/test_benchproto.o \
    $(BUILD)/tests/unit/harness.o $(BENCH_LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^

$(BENCH_REPLAY): $(BUILD)/tests/bench/fuzz_benchproto.o \
    $(BUILD)/tests/fuzz/replay.o $(BENCH_LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^

# The replayer needs tests/fuzz/replay.c (owned by the fuzz harness);
# selftest.sh skips the corpus replay, saying so, while it is missing.
BENCH_SELFTEST_BINS = $(BENCH_BINS) $(BENCH_TEST) \
	$(if $(wildcard tests/fuzz/replay.c),$(BENCH_REPLAY))

# Then pbsd's benchmark on tiny sizes (tests/bench/pbsd_bench.py), which
# prints one total line over both ("bench-selftest: N passed, N failed").
bench-selftest: $(BENCH_SELFTEST_BINS) $(PBSD_BINS)
	@out=$$(tests/bench/selftest.sh $(BUILD) 2>&1); rc=$$?; \
	    printf '%s\n' "$$out" | sed '$$d'; \
	    BENCH_SELFTEST_LAST="$$(printf '%s\n' "$$out" | tail -n 1)" \
	    BENCH_SELFTEST_RC=$$rc BAILEY_BUILD=$(abspath $(BUILD)) \
	    /usr/bin/python3 tests/bench/pbsd_bench.py --selftest

.DEFAULT_GOAL := $(BENCH_SAVED_GOAL)
