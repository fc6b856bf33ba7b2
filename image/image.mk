# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# image.mk: the appliance image.  Included by the top-level Makefile.
#
#   make image             build/image/: vmlinuz, initramfs.img, config.img
#                          (DEBUG=1: debug init + busybox + nft;
#                          IMAGE_COMPRESS=zstd|xz|gzip)
#   make image-run         the demo's Dovecot on the host + the image in qemu,
#                          127.0.0.1:2143/2110/2993/2995 -> 143/110/993/995
#   make image-unit        unit test + fuzz corpus replay of the
#                          appliance.conf parser (seconds)
#   make image-check       image-unit, then tests/image: the firewall in a
#                          network namespace (test_nft.py, 1 s) and the boot
#                          tests (test_image.py, about 1.5 min under TCG)
#
# Provides IMAGE_UNIT_BINS and IMAGE_REPLAY_BINS for the lead's lists.

IMAGE_SAVED_GOAL := $(.DEFAULT_GOAL)

IMAGE_DIR	?= build/image
# Not $(BUILD)/image/: with BUILD=build that is IMAGE_DIR.
IMAGE_CONF_OBJ	= $(BUILD)/image-obj/image_conf.o
IMAGE_UNIT_BINS	= $(BUILD)/tests/test_image_conf
IMAGE_REPLAY_BINS = $(BUILD)/fuzz/replay_image_conf

$(BUILD)/tests/image/test_image_conf.o \
    $(BUILD)/tests/image/fuzz_image_conf.o: ALL_CFLAGS += -iquote image \
    -iquote tests/unit

$(IMAGE_CONF_OBJ): image/image_conf.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tests/test_image_conf: $(BUILD)/tests/image/test_image_conf.o \
    $(BUILD)/tests/unit/harness.o $(IMAGE_CONF_OBJ) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^

$(BUILD)/fuzz/replay_image_conf: $(BUILD)/tests/image/fuzz_image_conf.o \
    $(BUILD)/tests/fuzz/replay.o $(IMAGE_CONF_OBJ) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_H) -o $@ $^

.PHONY: image image-run image-unit image-check

# Always runs: build.sh is incremental (make for bailey/pbsd, a cached
# kernel package) and the archive is cheap to rebuild.
image:
	@image/build.sh $(abspath $(IMAGE_DIR))

image-run: image
	@/usr/bin/python3 image/run.py demo $(IMAGE_DIR)

image-unit: $(IMAGE_UNIT_BINS) $(IMAGE_REPLAY_BINS)
	@scripts/run-unit.sh $(IMAGE_UNIT_BINS)
	@scripts/run-replay.sh $(BUILD)/fuzz tests/image/corpus image_conf

image-check: image-unit
	@/usr/bin/python3 -m pytest -q tests/image

.DEFAULT_GOAL := $(IMAGE_SAVED_GOAL)
