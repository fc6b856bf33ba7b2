# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# sandbox: included by the top-level Makefile next to pbsd/pbsd.mk (before
# the unit and fuzz rules are generated, so the += below take effect).
#
#   SANDBOX_SRCS   add to BAILEY_SRCS (and to pbsd's sources if pbsd uses
#                  sandbox_enter(SB_PBSD / SB_NFT))
#   SANDBOX_LIBS   add to BAILEY_LIBS (and PBSD_LIBS)
#
# The status parser (lib/sandbox_status.c) needs only lib/, so its fuzz
# target links without libseccomp and libcap.

SANDBOX_SRCS	= lib/sandbox.c lib/sandbox_status.c policy/seccomp.c
SANDBOX_LIBS	:= $(shell $(PKG_CONFIG) --libs libseccomp libcap 2>/dev/null \
		    || echo -lseccomp -lcap)
SANDBOX_OBJS	= $(SANDBOX_SRCS:%.c=$(BUILD)/%.o)

# Unit test: forks children that enter each profile (needs root for the
# uid change and chroot; skips those cases otherwise).  Already part of
# UNIT_BINS through UNIT_TESTS: do not add SANDBOX_UNIT_BINS there again.
UNIT_TESTS		+= sandbox
UNIT_DEPS_sandbox	= $(SANDBOX_SRCS)
UNIT_LIBS_sandbox	= $(SANDBOX_LIBS)
SANDBOX_UNIT_BINS	= $(BUILD)/tests/test_sandbox

# Fuzz target for the /proc/PID/status parser.
FUZZ_TARGETS			+= sandbox_status
FUZZ_DEPS_sandbox_status	= lib/sandbox_status.c

.PHONY: sandbox-check
sandbox-check: $(SANDBOX_UNIT_BINS) $(BUILD)/fuzz/replay_sandbox_status
	@scripts/run-unit.sh $(SANDBOX_UNIT_BINS)
	@$(BUILD)/fuzz/replay_sandbox_status tests/fuzz/corpus/sandbox_status
