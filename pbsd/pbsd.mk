# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# pbsd: included by the top-level Makefile.  Explicit source lists.
#
#   pbsd (daemon), pbsctl (control tool), unit tests test_pbsd_*,
#   corpus replayers for fuzz_pbsd_*.

# Remote gateways (issue 6): HMAC-SHA-256 from the mbedTLS crypto library
# that gateway/tls.mk builds (included after this file, hence the literal
# paths; the stamp rule is there).
PBSD_MBEDTLS	= build/mbedtls
PBSD_CRYPTO_LIB	= $(PBSD_MBEDTLS)/lib/libmbedcrypto.a
PBSD_AUTH_SRCS	= pbsd/pbsd_auth.c
PBSD_AUTH_OBJS	= $(PBSD_AUTH_SRCS:%.c=$(BUILD)/%.o)

PBSD_LIBS	= -ldb $(shell $(PKG_CONFIG) --libs libseccomp libnftnl libmnl \
		    libcap 2>/dev/null || echo -lseccomp -lnftnl -lmnl -lcap) \
		  $(PBSD_CRYPTO_LIB)

# The record codec and client helper: only lib/, no libdb (bailey links it).
PBSD_PROTO_SRCS	= pbsd/pbsd_proto.c
PBSD_CORE_SRCS	= pbsd/pbsd_key.c pbsd/pbsd_table.c pbsd/pbsd_out.c \
		  pbsd/pbsd_conf.c pbsd/pbsd_ctl.c \
		  pbsd/pbsd_logtail_parse.c pbsd/pbsd_logtail.c
PBSD_SRCS	= pbsd/pbsd.c pbsd/pbsd_sandbox.c pbsd/pbsd_nft.c \
		  $(PBSD_PROTO_SRCS) $(PBSD_AUTH_SRCS) pbsd/pbsd_remote.c \
		  $(PBSD_CORE_SRCS)
PBSCTL_SRCS	= pbsd/pbsctl.c pbsd/pbsd_key.c pbsd/pbsd_conf.c \
		  pbsd/pbsd_proto.c pbsd/pbsd_logtail_parse.c

PBSD_OBJS	= $(PBSD_SRCS:%.c=$(BUILD)/%.o)
PBSCTL_OBJS	= $(PBSCTL_SRCS:%.c=$(BUILD)/%.o)
PBSD_PROTO_OBJS	= $(PBSD_PROTO_SRCS:%.c=$(BUILD)/%.o)
PBSD_CORE_OBJS	= $(PBSD_PROTO_OBJS) $(PBSD_CORE_SRCS:%.c=$(BUILD)/%.o)

PBSD_BINS	= $(BUILD)/bin/pbsd $(BUILD)/bin/pbsctl $(BUILD)/bin/pbsd-dbread

# Binaries go to $(BUILD)/bin/: $(BUILD)/pbsd/ holds pbsd/*.o.
$(BUILD)/bin/pbsd: $(PBSD_OBJS) $(LIB_OBJS) | $(PBSD_MBEDTLS)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^ $(PBSD_LIBS)

# Objects that include <mbedtls/...> (system include: our -Werror set
# stays off its headers; -MMD skips them, hence the stamp).
PBSD_CRYPTO_USERS = $(PBSD_AUTH_OBJS)
$(PBSD_CRYPTO_USERS): ALL_CFLAGS += -isystem $(PBSD_MBEDTLS)/include
$(PBSD_CRYPTO_USERS): $(PBSD_MBEDTLS)/.stamp

$(BUILD)/bin/pbsctl: $(PBSCTL_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^

# Test helper for the e2e tests: a Postfix-like long-lived DB reader.
$(BUILD)/bin/pbsd-dbread: $(BUILD)/pbsd/pbsd_dbread.o $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^ -ldb

# Unit tests: test_pbsd_proto needs only the codec (proves it is
# standalone); the others get the core (and libdb for pbsd_out).
PBSD_UNIT	= proto key table conf ctl state auth remote logtail
PBSD_UNIT_BINS	= $(PBSD_UNIT:%=$(BUILD)/tests/test_pbsd_%)

$(BUILD)/tests/test_pbsd_proto: $(BUILD)/tests/unit/test_pbsd_proto.o \
    $(BUILD)/tests/unit/harness.o $(PBSD_PROTO_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^

define pbsd_unit_rule
$(BUILD)/tests/test_pbsd_$(1): $(BUILD)/tests/unit/test_pbsd_$(1).o \
    $(BUILD)/tests/unit/harness.o $(PBSD_CORE_OBJS) $(LIB_OBJS)
	@mkdir -p $$(dir $$@)
	$(CC) $(LDFLAGS_H) -o $$@ $$^ -ldb
endef
$(foreach t,$(filter-out proto auth,$(PBSD_UNIT)),$(eval $(call pbsd_unit_rule,$(t))))

# The envelope codec: itself, the record codec, lib/ and mbedcrypto.
$(BUILD)/tests/test_pbsd_auth: $(BUILD)/tests/unit/test_pbsd_auth.o \
    $(BUILD)/tests/unit/harness.o $(PBSD_AUTH_OBJS) $(PBSD_PROTO_OBJS) \
    $(LIB_OBJS) | $(PBSD_MBEDTLS)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^ $(PBSD_CRYPTO_LIB)

# Fuzz targets, replayed over tests/fuzz/corpus/<t>/ by make check.
PBSD_FUZZ_TARGETS = pbsd_event pbsd_conf pbsd_ctl pbsd_state pbsd_auth \
		    pbsd_logtail
PBSD_REPLAY_BINS  = $(PBSD_FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)

define pbsd_fuzz_rule
$(BUILD)/fuzz/replay_$(1): $(BUILD)/tests/fuzz/fuzz_$(1).o \
    $(BUILD)/tests/fuzz/replay.o $(PBSD_CORE_OBJS) $(LIB_OBJS)
	@mkdir -p $$(dir $$@)
	$(CC) $(LDFLAGS_H) -o $$@ $$^ -ldb
endef
$(foreach t,$(filter-out pbsd_auth,$(PBSD_FUZZ_TARGETS)),$(eval $(call pbsd_fuzz_rule,$(t))))

$(BUILD)/fuzz/replay_pbsd_auth: $(BUILD)/tests/fuzz/fuzz_pbsd_auth.o \
    $(BUILD)/tests/fuzz/replay.o $(PBSD_AUTH_OBJS) $(PBSD_PROTO_OBJS) \
    $(LIB_OBJS) | $(PBSD_MBEDTLS)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^ $(PBSD_CRYPTO_LIB)

.PHONY: pbsd pbsd-check
pbsd: $(PBSD_BINS)

# Just pbsd's tests (unit, replay, e2e).
pbsd-check: $(PBSD_BINS) $(PBSD_UNIT_BINS) $(PBSD_REPLAY_BINS)
	@for t in $(PBSD_UNIT_BINS); do $$t || exit 1; done
	@for t in $(PBSD_FUZZ_TARGETS); do \
		$(BUILD)/fuzz/replay_$$t tests/fuzz/corpus/$$t || exit 1; done
	@PBSD_BUILD=$(abspath $(BUILD)) /usr/bin/python3 -m pytest -q \
	    tests/e2e/test_pbsd.py tests/e2e/test_pbsd_nft.py \
	    tests/e2e/test_pbsd_remote.py tests/e2e/test_pbsd_logtail.py

# libFuzzer builds of the pbsd targets (the top-level "fuzz" loop knows only
# FUZZ_TARGETS); e.g. build-fuzz/fuzz_pbsd_event tests/fuzz/corpus/pbsd_event
PBSD_FUZZ_SRCS	= $(PBSD_PROTO_SRCS) $(PBSD_CORE_SRCS)
.PHONY: pbsd-fuzz
pbsd-fuzz:
	@mkdir -p build-fuzz
	@for t in $(PBSD_FUZZ_TARGETS); do \
		echo "FUZZ $$t"; \
		$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 \
		    -fsanitize=fuzzer,address,undefined -Ilib -Ipbsd \
		    -isystem $(PBSD_MBEDTLS)/include \
		    -o build-fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c $(LIB_SRCS) \
		    $(PBSD_FUZZ_SRCS) $(PBSD_AUTH_SRCS) -ldb \
		    $(PBSD_CRYPTO_LIB) || exit 1; \
	done
