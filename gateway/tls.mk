# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# tls.mk: the mbedTLS 3.6 build step and the TLS layer's objects and tests.
# Included by the top-level Makefile.  The library is built once into
# build/mbedtls (shared by SAN=1, whose objects go to build-san/) by
# scripts/mbedtls.sh, which is a no-op while gateway/mbedtls_config.h and
# the script are unchanged.
#
#   make mbedtls            fetch + build the library (cached)
#   make tls-unit           build and run tests/unit/test_tls.c
#   make tls-replay         replay the tls_sni fuzz corpus
#
# Provides: TLS_CFLAGS, TLS_LIBS, TLS_OBJS (gateway/tls.c for a role's
# link line), TLS_UNIT_BINS, TLS_REPLAY_BINS, TLS_FUZZ_TARGETS.

# Leave the including Makefile's default goal alone (restored at the end).
TLS_SAVED_GOAL	:= $(.DEFAULT_GOAL)

MBEDTLS_DIR	= build/mbedtls
MBEDTLS_STAMP	= $(MBEDTLS_DIR)/.stamp
TLS_CFLAGS	= -isystem $(MBEDTLS_DIR)/include
TLS_LIBS	= $(MBEDTLS_DIR)/lib/libmbedtls.a $(MBEDTLS_DIR)/lib/libmbedx509.a \
		  $(MBEDTLS_DIR)/lib/libmbedcrypto.a
TLS_OBJS	= $(BUILD)/gateway/tls.o

TLS_UNIT_BINS	= $(BUILD)/tests/test_tls
TLS_FUZZ_TARGETS = tls_sni
TLS_REPLAY_BINS	= $(TLS_FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)

.PHONY: mbedtls tls-unit tls-replay

mbedtls: $(MBEDTLS_STAMP)

# The script decides whether anything is to be done (config hash).
$(MBEDTLS_STAMP): scripts/mbedtls.sh gateway/mbedtls_config.h
	@scripts/mbedtls.sh $(MBEDTLS_DIR)

$(TLS_LIBS): $(MBEDTLS_STAMP) ;

# Objects that include <mbedtls/...>: the system-include path keeps our
# -Werror set off mbedTLS's headers; -MMD skips them, hence the stamp.
# Our -I dirs become -iquote: lib/bailey_limits.h would otherwise shadow the C
# library's <limits.h> inside mbedTLS's headers (CHAR_BIT undefined).
TLS_USERS	= $(BUILD)/gateway/tls.o $(BUILD)/tests/unit/test_tls.o \
		  $(BUILD)/tests/fuzz/fuzz_tls_sni.o
$(TLS_USERS): ALL_CFLAGS := $(patsubst -I%,-iquote %,$(ALL_CFLAGS)) \
    $(TLS_CFLAGS)
$(TLS_USERS): $(MBEDTLS_STAMP)

$(BUILD)/tests/test_tls: $(BUILD)/tests/unit/test_tls.o \
    $(BUILD)/tests/unit/harness.o $(TLS_OBJS) $(LIB_OBJS) $(TLS_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^

$(BUILD)/fuzz/replay_tls_sni: $(BUILD)/tests/fuzz/fuzz_tls_sni.o \
    $(BUILD)/tests/fuzz/replay.o $(TLS_OBJS) $(LIB_OBJS) $(TLS_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^

tls-unit: $(TLS_UNIT_BINS)
	@scripts/run-unit.sh $(TLS_UNIT_BINS)

tls-replay: $(TLS_REPLAY_BINS)
	@scripts/run-replay.sh $(BUILD)/fuzz tests/fuzz/corpus $(TLS_FUZZ_TARGETS)

.DEFAULT_GOAL	:= $(TLS_SAVED_GOAL)
