# policy/dest.mk: the destination policy (policy/dest.c, policy/hostaddr.c),
# its unit test and its corpus replayer.  Included by the top-level
# Makefile after LIB_OBJS and BUILD are set.
#
#   DEST_SRCS          sources to add to the dialer/parent binary (bailey)
#   DEST_UNIT_BINS     unit-test binaries (add to UNIT_BINS)
#   DEST_FUZZ_TARGETS  fuzz targets (add to the replay list and make fuzz)
#   DEST_REPLAY_BINS   corpus replayers (add to REPLAY_BINS)

DEST_SRCS		= policy/dest.c policy/hostaddr.c
DEST_OBJS		= $(DEST_SRCS:%.c=$(BUILD)/%.o)
DEST_UNIT_BINS		= $(BUILD)/tests/test_dest
DEST_FUZZ_TARGETS	= dest
DEST_REPLAY_BINS	= $(DEST_FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
# For "make fuzz" (print-fuzzdeps): sources besides the target and lib/.
FUZZ_DEPS_dest		= $(DEST_SRCS)

$(BUILD)/tests/test_dest: $(BUILD)/tests/unit/test_dest.o \
    $(BUILD)/tests/unit/harness.o $(DEST_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^

$(BUILD)/fuzz/replay_dest: $(BUILD)/tests/fuzz/fuzz_dest.o \
    $(BUILD)/tests/fuzz/replay.o $(DEST_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^

.PHONY: dest-check
# Just this module's tests: unit test and corpus replay.
dest-check: $(DEST_UNIT_BINS) $(DEST_REPLAY_BINS)
	@for t in $(DEST_UNIT_BINS); do $$t || exit 1; done
	@$(BUILD)/fuzz/replay_dest tests/fuzz/corpus/dest
