# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# capfilter.mk: the post-login capability filter (gateway/capfilter.c),
# its unit test and its fuzz target.  Included by the top-level Makefile.
#
#   make capfilter-unit     build and run tests/unit/test_capfilter.c
#                           (also prints the 10 MB throughput figures)
#   make capfilter-replay   replay tests/fuzz/corpus/capfilter
#
# Provides: CAPFILTER_SRCS (for the worker's link line), CAPFILTER_OBJS,
# CAPFILTER_UNIT_BINS, CAPFILTER_FUZZ_TARGETS, CAPFILTER_REPLAY_BINS, and
# FUZZ_DEPS_capfilter for "make fuzz".

CAPFILTER_SAVED_GOAL	:= $(.DEFAULT_GOAL)

CAPFILTER_SRCS		= gateway/capfilter.c
# imap_parse.c for its ATOM-CHAR classifier (one definition for both).
CAPFILTER_OBJS		= $(CAPFILTER_SRCS:%.c=$(BUILD)/%.o) \
			  $(BUILD)/gateway/imap_parse.o
CAPFILTER_UNIT_BINS	= $(BUILD)/tests/test_capfilter
CAPFILTER_FUZZ_TARGETS	= capfilter
CAPFILTER_REPLAY_BINS	= $(CAPFILTER_FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
FUZZ_DEPS_capfilter	= $(CAPFILTER_SRCS) gateway/imap_parse.c

.PHONY: capfilter-unit capfilter-replay

$(BUILD)/tests/test_capfilter: $(BUILD)/tests/unit/test_capfilter.o \
    $(BUILD)/tests/unit/harness.o $(CAPFILTER_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^

$(BUILD)/fuzz/replay_capfilter: $(BUILD)/tests/fuzz/fuzz_capfilter.o \
    $(BUILD)/tests/fuzz/replay.o $(CAPFILTER_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^

capfilter-unit: $(CAPFILTER_UNIT_BINS)
	@scripts/run-unit.sh $(CAPFILTER_UNIT_BINS)

capfilter-replay: $(CAPFILTER_REPLAY_BINS)
	@scripts/run-replay.sh $(BUILD)/fuzz tests/fuzz/corpus \
	    $(CAPFILTER_FUZZ_TARGETS)

.DEFAULT_GOAL	:= $(CAPFILTER_SAVED_GOAL)
