# Bailey: one GNU Makefile.  See README.md.
#
#   make            build bailey (and pbsd) into build/
#   make check      install what is missing, build, run every test
#   make demo       install what is missing, build, run the demo
#   make SAN=1 ...  the same with ASan + UBSan (into build-san/)
#   make fuzz       libFuzzer targets with clang (into build-fuzz/)
#   make bench      the benchmark (tests/bench)
#   make install DESTDIR=... PREFIX=/usr/local

PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc
PKG_CONFIG ?= pkg-config

# STATIC=1: static-pie binaries for the appliance image (build-static/).
ifeq ($(STATIC),1)
BUILD	?= build-static
endif

ifeq ($(SAN),1)
BUILD	?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	   -fno-omit-frame-pointer
OPT	= -O1
else
BUILD	?= build
SANFLAGS =
OPT	= -O2
endif

WARN	= -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-qual \
	  -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	  -Wformat=2 -Wsign-compare -Wimplicit-fallthrough -Wvla
HARDEN	= -fstack-protector-strong -fstack-clash-protection -fPIE
ifneq ($(SAN),1)
HARDEN	+= -D_FORTIFY_SOURCE=3
endif
CFLAGS	?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(CFLAGS) $(WARN) $(HARDEN) $(SANFLAGS) \
	  -iquote lib -iquote gateway -iquote policy -iquote pbsd -MMD -MP
LDFLAGS_H = -pie -Wl,-z,relro,-z,now $(SANFLAGS)
ifeq ($(STATIC),1)
LDFLAGS_H = -static-pie -Wl,-z,relro,-z,now
endif

# --- sources: explicit lists, so a new file in a privileged role shows ----
LIB_SRCS	= lib/buf.c lib/log.c lib/msg.c lib/ev.c
BAILEY_SRCS	= gateway/bailey.c gateway/parent.c gateway/spawn.c \
		  gateway/spawner.c \
		  gateway/config.c gateway/lookup.c gateway/dialer.c \
		  gateway/worker.c gateway/session.c gateway/imap.c \
		  gateway/pop3.c gateway/relay.c gateway/resp.c \
		  gateway/scoreboard.c gateway/conn.c gateway/tlsctx.c \
		  gateway/tls.c gateway/keyholder.c pbsd/pbsd_proto.c \
		  gateway/capfilter.c gateway/penalty.c $(SANDBOX_SRCS) \
		  gateway/imap_parse.c gateway/sasl.c gateway/map.c \
		  gateway/map_regex.c gateway/map_static.c \
		  policy/dest.c policy/hostaddr.c gateway/proxyproto.c
BAILEY_LIBS	= $(TLS_LIBS) $(SANDBOX_LIBS)

LIB_OBJS	= $(LIB_SRCS:%.c=$(BUILD)/%.o)
BAILEY_OBJS	= $(BAILEY_SRCS:%.c=$(BUILD)/%.o)

# --- unit tests: name -> sources besides the test itself and lib/ -------
UNIT_TESTS	= buf msg resp imap_parse sasl map config proxyproto
UNIT_DEPS_buf		=
UNIT_DEPS_msg		=
UNIT_DEPS_resp		= gateway/resp.c
UNIT_DEPS_imap_parse	= gateway/imap_parse.c
UNIT_DEPS_sasl		= gateway/sasl.c
UNIT_DEPS_map		= gateway/map.c gateway/map_regex.c gateway/map_static.c
UNIT_DEPS_config	= gateway/config.c policy/dest.c policy/hostaddr.c
UNIT_DEPS_proxyproto	= gateway/proxyproto.c policy/hostaddr.c

# --- fuzz targets: name -> sources besides the target and lib/ ----------
FUZZ_TARGETS	= imap_parse sasl map_result map_regex config resp msg \
		  proxyproto
FUZZ_DEPS_imap_parse	= gateway/imap_parse.c
FUZZ_DEPS_sasl		= gateway/sasl.c
FUZZ_DEPS_map_result	= gateway/map.c gateway/map_regex.c gateway/map_static.c
FUZZ_DEPS_map_regex	= gateway/map.c gateway/map_regex.c gateway/map_static.c
FUZZ_DEPS_config	= gateway/config.c policy/dest.c policy/hostaddr.c
FUZZ_DEPS_resp		= gateway/resp.c
FUZZ_DEPS_msg		=
FUZZ_DEPS_proxyproto	= gateway/proxyproto.c policy/hostaddr.c

# Fragments owned by their directories (each may add to the lists above,
# define PBSD_BINS, TLS objects, bench binaries ...).
-include pbsd/pbsd.mk
-include policy/sandbox.mk
-include policy/dest.mk
-include gateway/tls.mk
-include gateway/capfilter.mk
-include tests/bench/bench.mk
-include image/image.mk
.DEFAULT_GOAL := all

# Test build: the same sources with -DBAILEY_TESTHOOKS (own objects), plus
# gateway/testhooks.c in front of the command parsers (--wrap).  Only for
# tests/e2e/test_forbidden_syscall.py; never installed.
TESTHOOKS_BIN	= $(BUILD)/testhooks/bailey
TESTHOOKS_OBJS	= $(BAILEY_SRCS:%.c=$(BUILD)/testhooks/%.o) \
		  $(LIB_SRCS:%.c=$(BUILD)/testhooks/%.o) \
		  $(BUILD)/testhooks/gateway/testhooks.o
TESTHOOKS_WRAP	= -Wl,--wrap=imap_verb,--wrap=pop3_cmd_parse

$(BUILD)/testhooks/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DBAILEY_TESTHOOKS -c $< -o $@

$(BUILD)/testhooks/gateway/tls.o: ALL_CFLAGS := \
    $(patsubst -I%,-iquote %,$(ALL_CFLAGS)) $(TLS_CFLAGS)
$(BUILD)/testhooks/gateway/tls.o: $(MBEDTLS_STAMP)

$(TESTHOOKS_BIN): $(TESTHOOKS_OBJS)
	$(CC) $(LDFLAGS_H) $(TESTHOOKS_WRAP) -o $@ $^ $(BAILEY_LIBS)

.PHONY: all check unit fuzz-replay e2e demo deps install clean lint man-lint \
	fuzz bench help

all: $(BUILD)/bailey $(PBSD_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/bailey: $(BAILEY_OBJS) $(LIB_OBJS)
	$(CC) $(LDFLAGS_H) -o $@ $^ $(BAILEY_LIBS)

# Unit test binaries.
define unit_rule
$(BUILD)/tests/test_$(1): $(BUILD)/tests/unit/test_$(1).o \
    $(BUILD)/tests/unit/harness.o $(LIB_OBJS) \
    $(UNIT_DEPS_$(1):%.c=$(BUILD)/%.o)
	$(CC) $(LDFLAGS_H) -o $$@ $$^ $(UNIT_LIBS_$(1))
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

# Fuzz targets, built with gcc as corpus replayers (tests/fuzz/replay.c).
define fuzz_rule
$(BUILD)/fuzz/replay_$(1): $(BUILD)/tests/fuzz/fuzz_$(1).o \
    $(BUILD)/tests/fuzz/replay.o $(LIB_OBJS) \
    $(FUZZ_DEPS_$(1):%.c=$(BUILD)/%.o)
	@mkdir -p $$(dir $$@)
	$(CC) $(LDFLAGS_H) -o $$@ $$^ $(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

UNIT_BINS	= $(UNIT_TESTS:%=$(BUILD)/tests/test_%) $(PBSD_UNIT_BINS) \
		  $(TLS_UNIT_BINS) $(CAPFILTER_UNIT_BINS) $(DEST_UNIT_BINS)
REPLAY_BINS	= $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%) $(PBSD_REPLAY_BINS) \
		  $(TLS_REPLAY_BINS) $(CAPFILTER_REPLAY_BINS) $(DEST_REPLAY_BINS)

deps:
	@scripts/deps.sh

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

fuzz-replay: $(REPLAY_BINS)
	@scripts/run-replay.sh $(BUILD)/fuzz tests/fuzz/corpus $(FUZZ_TARGETS) $(PBSD_FUZZ_TARGETS) \
	    $(TLS_FUZZ_TARGETS) $(CAPFILTER_FUZZ_TARGETS) $(DEST_FUZZ_TARGETS)

man-lint:
	@scripts/man-lint.sh

# The appliance image: parser tests, then boot it in qemu (tests/image).
image-test: all
	@$(MAKE) --no-print-directory image-unit
	@BAILEY_BUILD=$(abspath $(BUILD)) BAILEY_TEST_TIMEOUT=900 \
	    scripts/run-e2e.sh tests/image

e2e: all $(TESTHOOKS_BIN)
	@BAILEY_BUILD=$(abspath $(BUILD)) scripts/run-e2e.sh

# The README's test command.  Installs what is missing first.
check:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(REPLAY_BINS) \
	    $(TESTHOOKS_BIN)
	@scripts/check.sh $(BUILD)

demo:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@BAILEY_BUILD=$(abspath $(BUILD)) scripts/demo.sh

# libFuzzer with clang; run e.g. build-fuzz/fuzz_imap_parse tests/fuzz/corpus/imap_parse
FUZZ_CC	?= clang
fuzz:
	@mkdir -p build-fuzz
	@for t in $(FUZZ_TARGETS) $(CAPFILTER_FUZZ_TARGETS) $(DEST_FUZZ_TARGETS); do \
		deps=$$(make -s --no-print-directory print-fuzzdeps T=$$t); \
		echo "FUZZ $$t"; \
		$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		    -iquote lib -iquote gateway -iquote policy -iquote pbsd \
		    -o build-fuzz/fuzz_$$t \
		    tests/fuzz/fuzz_$$t.c $(LIB_SRCS) $$deps || exit 1; \
	done

print-fuzzdeps:
	@echo $(FUZZ_DEPS_$(T))

bench: all
	@BAILEY_BUILD=$(abspath $(BUILD)) scripts/bench.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0755 $(BUILD)/bailey $(DESTDIR)$(PREFIX)/sbin/bailey
	install -m 0644 docs/bailey.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 docs/bailey.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/

lint:
	@scripts/lint.sh

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) -path $(BUILD)/mbedtls -prune -o -name '*.d' \
    -type f -print 2>/dev/null)
