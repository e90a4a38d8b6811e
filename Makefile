# vdisk: a bare-metal arm64 virtio-blk backend that runs as its own Xen domain.
#
#   make            build build/vdisk.img (arm64 Linux Image) and build/vdisk.elf
#   make run        boot Xen + dom0 + vdisk in QEMU and show vdisk's console
#   make test       host unit tests, image checks and the real-Xen rig tests
#   make unit       host unit tests only
#   make fuzz       libFuzzer targets, FUZZ_SECONDS (60) each; seeds in tests/fuzz/corpus/
#   make rig-test   rig tests only (GIC=3 or GIC=2 to pick one)
#   make bench      fio on vdisk vs. Linux's xen-blkback in the rig under QEMU -icount (not a test)
#   make profile    the request path on the host under callgrind: instructions by function
#
# Missing Debian packages are installed by tools/deps.sh; downloads and builds of
# outside parts are cached in $(CACHE), outside git.

CROSS    ?= aarch64-linux-gnu-
CC       := $(CROSS)gcc
OBJCOPY  := $(CROSS)objcopy
HOSTCC   ?= gcc
CACHE    ?= $(or $(VDISK_CACHE),$(HOME)/.cache/vdisk)
export VDISK_CACHE := $(CACHE)

B        := build
PICOLIBC := /usr/lib/picolibc/aarch64-linux-gnu
# Debian ships picolibc twice: lib/libc.a is built for size (memcpy copies a byte per loop,
# five instructions a byte) and lib/release/libc.a for speed (Arm's optimised string
# routines, unaligned 16-byte load/store pairs: fine once the MMU maps RAM as normal memory).
# Every request copies its data with memcpy, so vdisk links the release build (make bench).
PICOLIBC_LIBC := $(PICOLIBC)/lib/release/libc.a
LIBFDT_A := $(CACHE)/sysroot/usr/lib/aarch64-linux-gnu/libfdt.a
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# What vdisk and the hostile test guest both run: start-up, exceptions, MMU, timer, Xen
# bring-up (hypercalls, shared_info, event channels, PV console), log, device tree (with the
# SDHCI driver, whose table says which nodes are SD controllers), libc glue, the GIC (the test
# guest acknowledges its devices' interrupts) and PSCI (it starts a 2nd vCPU).
BASE_SRCS := \
	arch/arm64/head.S \
	arch/arm64/vectors.S \
	arch/arm64/hypercall.S \
	arch/arm64/cpu.c \
	arch/arm64/exception.c \
	arch/arm64/mmu.c \
	arch/arm64/timer.c \
	arch/arm64/gic.c \
	arch/arm64/psci.c \
	hyp/xen.c \
	hyp/evtchn.c \
	hyp/console.c \
	lib/fields.c \
	lib/hist.c \
	lib/log.c \
	boot/dt.c \
	blk/sdhci.c \
	boot/libc.c \
	boot/xenboot.c

FW_SRCS := $(BASE_SRCS) \
	arch/arm64/pl011.c \
	hyp/xs_ring.c \
	hyp/xs.c \
	hyp/dm.c \
	hyp/frames.c \
	hyp/ioreq.c \
	hyp/gmem.c \
	hyp/upcall.c \
	virtio/vq.c \
	virtio/vmmio.c \
	blk/ramdisk.c \
	blk/target.c \
	blk/vblk.c \
	blk/mmc.c \
	blk/mmcdisk.c \
	blk/part.c \
	boot/main.c \
	boot/config.c \
	boot/loop.c \
	boot/diag.c \
	boot/latency.c \
	boot/stats.c \
	boot/backend.c \
	boot/backend_check.c \
	boot/dev.c \
	boot/cards.c \
	boot/pci.c \
	boot/ram.c

FW_OBJS := $(patsubst %,$(B)/fw/%.o,$(basename $(FW_SRCS)))

# The hostile test guest (tests/guests/hostile): a bare-metal domU that attacks vdisk's
# virtio-mmio devices, with its own boot/main.h entry points in place of boot/main.c.
HOSTILE_SRCS := $(BASE_SRCS) \
	tests/guests/hostile/main.c \
	tests/guests/hostile/vdrv.c \
	tests/guests/hostile/attacks.c \
	tests/guests/hostile/grant.c
HOSTILE_OBJS := $(patsubst %,$(B)/fw/%.o,$(basename $(HOSTILE_SRCS)))

# The cross compiler's own headers (stdarg.h, ...). Asked for on first use, not when the
# Makefile is read: on a fresh machine the compiler is installed by the deps step first.
GCC_INCLUDE = $(eval GCC_INCLUDE := $(shell $(CC) -print-file-name=include))$(GCC_INCLUDE)

FW_CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter \
	-ffreestanding -fno-common -fpie -fno-plt -fno-stack-protector \
	-ffunction-sections -fdata-sections \
	-mgeneral-regs-only -mstrict-align -mno-outline-atomics -march=armv8-a \
	-nostdinc -isystem $(PICOLIBC)/include -isystem $(GCC_INCLUDE) \
	-I$(B)/include -I. -Iarch/include -Iarch/arm64/include \
	-D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__ -DVDISK_VERSION='"$(VERSION)"' -MMD -MP
FW_LDFLAGS := -nostdlib -nostartfiles -static-pie -Wl,--no-dynamic-linker -Wl,-z,text \
	-Wl,-z,norelro -Wl,-z,noexecstack -Wl,--gc-sections -Wl,--build-id=none \
	-Wl,-T,linker.ld

.PHONY: all deps run test unit fuzz rig-test image-test bench boot-timing profile clean distclean
all: $(B)/vdisk.img $(B)/guests/hostile.img

# Host packages (Debian). The stamp reruns the script when it changes.
DEPS_STAMP := $(CACHE)/stamps/deps-$(shell cksum tools/deps.sh | cut -d' ' -f1)
$(DEPS_STAMP): tools/deps.sh
	tools/deps.sh
	@mkdir -p $(dir $@) && touch $@
deps: $(DEPS_STAMP)

# Debian's arm64 libfdt.a comes with the rig's arm64 package set (tools/rig/fetch.sh).
$(LIBFDT_A): | $(DEPS_STAMP)
	tools/rig/fetch.sh

# Public headers from Debian packages, under one private include root so that the
# cross build never sees the host's /usr/include.
$(B)/include/.stamp: | $(DEPS_STAMP)
	@mkdir -p $(B)/include
	ln -sfn /usr/include/xen $(B)/include/xen
	ln -sf /usr/include/libfdt.h /usr/include/fdt.h /usr/include/libfdt_env.h $(B)/include/
	@touch $@

$(B)/fw/%.o: %.c $(B)/include/.stamp Makefile
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(FW_CFLAGS) -c $< -o $@

$(B)/fw/%.o: %.S $(B)/include/.stamp Makefile
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(FW_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(B)/vdisk.elf: $(FW_OBJS) linker.ld Makefile $(LIBFDT_A)
	@echo "  LD      $@"
	@$(CC) $(FW_LDFLAGS) -Wl,-Map,$(B)/vdisk.map -o $@ $(FW_OBJS) -Wl,--start-group \
		$(LIBFDT_A) $(PICOLIBC_LIBC) -lgcc -Wl,--end-group
	tools/check-elf.sh $@

$(B)/vdisk.img: $(B)/vdisk.elf
	$(OBJCOPY) -O binary $< $@
	@echo "vdisk: $@ $$(stat -c %s $@) bytes"

$(B)/guests/hostile.elf: $(HOSTILE_OBJS) linker.ld Makefile $(LIBFDT_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(FW_LDFLAGS) -Wl,-Map,$(B)/guests/hostile.map -o $@ $(HOSTILE_OBJS) \
		-Wl,--start-group $(LIBFDT_A) $(PICOLIBC_LIBC) -lgcc -Wl,--end-group
	tools/check-elf.sh $@

$(B)/guests/hostile.img: $(B)/guests/hostile.elf
	$(OBJCOPY) -O binary $< $@
	@echo "hostile guest: $@ $$(stat -c %s $@) bytes"

-include $(FW_OBJS:.o=.d) $(HOSTILE_OBJS:.o=.d)

# The dom0-side helper used by the rig (and by operators): static, so dom0 needs nothing.
$(B)/dom0/vdisk-dom0: tools/dom0/vdisk-dom0.c $(B)/include/.stamp
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) -static -O2 -Wall -Wextra -Werror -idirafter $(B)/include -o $@ $<

# ---- host unit tests -------------------------------------------------------
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-I. -Iarch/include -Iarch/fake/include -DHOST_TEST \
	-D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__ -MMD -MP
HOST_LIBS := -lfdt

# Each unit test binary: its test file plus the firmware sources it exercises.
# Every tests/unit/test_<name>.c is a test binary, with the sources listed in unit_<name>_SRCS.
UNIT_TESTS := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
unit_xs_ring_SRCS := hyp/xs_ring.c
unit_xs_SRCS      := hyp/xs.c hyp/xs_ring.c arch/fake/fake.c lib/log.c tests/unit/log_capture.c
unit_evtchn_SRCS  := hyp/evtchn.c hyp/xen.c tests/unit/fake_hypercalls.c arch/fake/fake.c lib/log.c tests/unit/log_capture.c
unit_upcall_SRCS  := hyp/upcall.c hyp/evtchn.c hyp/xen.c lib/hist.c lib/fields.c \
	tests/unit/fake_hypercalls.c arch/fake/fake.c lib/log.c tests/unit/log_capture.c
unit_config_SRCS  := boot/config.c arch/fake/fake.c lib/log.c tests/unit/log_capture.c
unit_dt_SRCS      := boot/dt.c blk/sdhci.c arch/fake/fake.c arch/fake/fake_mmio.c lib/log.c \
	tests/unit/log_capture.c
unit_log_SRCS     := lib/log.c lib/fields.c arch/fake/fake.c
unit_target_SRCS  := blk/target.c
unit_stats_SRCS   := boot/stats.c lib/fields.c
unit_hist_SRCS    := lib/hist.c lib/fields.c
unit_latency_SRCS := boot/latency.c lib/hist.c lib/fields.c arch/fake/fake.c lib/log.c \
	tests/unit/log_capture.c
unit_backend_check_SRCS := boot/backend_check.c blk/target.c
unit_vq_SRCS      := virtio/vq.c arch/fake/fake.c lib/log.c tests/unit/log_capture.c tests/unit/fake_guest.c
unit_vmmio_SRCS   := virtio/vmmio.c virtio/vq.c arch/fake/fake.c lib/log.c \
	tests/unit/log_capture.c
unit_ramdisk_SRCS := blk/ramdisk.c tests/unit/disk_io.c
# The fake Xen (tests/unit/fake_xen.c) runs the real event channels: it needs hyp/evtchn.c.
FAKE_XEN_SRCS     := tests/unit/fake_xen.c hyp/evtchn.c hyp/xen.c tests/unit/fake_hypercalls.c
unit_gmem_SRCS    := hyp/gmem.c blk/vblk.c lib/hist.c lib/fields.c blk/ramdisk.c virtio/vmmio.c virtio/vq.c \
	$(FAKE_XEN_SRCS) tests/unit/fake_driver.c arch/fake/fake.c lib/log.c tests/unit/log_capture.c
unit_ioreq_SRCS   := hyp/ioreq.c lib/hist.c lib/fields.c hyp/dm.c $(FAKE_XEN_SRCS) \
	arch/fake/fake.c lib/log.c tests/unit/log_capture.c
unit_dev_SRCS     := boot/dev.c hyp/ioreq.c hyp/dm.c hyp/gmem.c blk/vblk.c blk/ramdisk.c virtio/vmmio.c \
	virtio/vq.c lib/hist.c lib/fields.c $(FAKE_XEN_SRCS) tests/unit/fake_driver.c arch/fake/fake.c \
	lib/log.c tests/unit/log_capture.c
unit_vblk_SRCS    := blk/vblk.c lib/hist.c lib/fields.c blk/ramdisk.c virtio/vmmio.c virtio/vq.c arch/fake/fake.c lib/log.c \
	tests/unit/log_capture.c tests/unit/fake_guest.c
unit_part_SRCS    := blk/part.c
unit_pci_SRCS     := boot/pci.c arch/fake/fake_mmio.c arch/fake/fake.c lib/log.c \
	tests/unit/log_capture.c
unit_fake_sdhci_SRCS := tests/unit/fake_sdhci.c arch/fake/fake_mmio.c arch/fake/fake.c
unit_mmc_SRCS     := blk/sdhci.c blk/mmc.c blk/mmcdisk.c tests/unit/fake_sdhci.c tests/unit/disk_io.c \
	arch/fake/fake_mmio.c arch/fake/fake.c lib/log.c tests/unit/log_capture.c

UNIT_BINS := $(UNIT_TESTS:%=$(B)/host/test_%)
DTS_FILES := $(wildcard tests/unit/dts/*.dts)
DTB_FILES := $(DTS_FILES:tests/unit/dts/%.dts=$(B)/host/dtb/%.dtb)

# Broken variants include the base trees, so any .dts change rebuilds every tree.
$(B)/host/dtb/%.dtb: tests/unit/dts/%.dts $(DTS_FILES) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	dtc -q -I dts -O dtb -o $@ $<

$(B)/host/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	@$(HOSTCC) $(HOST_CFLAGS) -c $< -o $@

.SECONDARY:
.SECONDEXPANSION:
$(B)/host/test_%: $(B)/host/tests/unit/test_%.o $(B)/host/tests/unit/test.o \
		$$(patsubst %.c,$(B)/host/%.o,$$(unit_$$*_SRCS))
	@echo "  HOSTLD  $@"
	@$(HOSTCC) $(HOST_CFLAGS) -o $@ $^ $(HOST_LIBS)

-include $(wildcard $(B)/host/*/*.d $(B)/host/*/*/*.d)

unit: $(UNIT_BINS) $(DTB_FILES)
	tests/unit/run.sh $(UNIT_BINS)

# ---- fuzzers ------------------------------------------------------------------
# Each tests/fuzz/fuzz_<name>.c is a libFuzzer target built with Debian's clang against the
# sources in fuzz_<name>_SRCS (the same host fakes as the unit tests), instrumented whole.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-I. -Iarch/include -Iarch/fake/include -DHOST_TEST \
	-D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__
FUZZ_HDRS    := $(wildcard */*.h arch/*/include/arch/*.h tests/unit/*.h)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz_vq_blk_SRCS  := blk/vblk.c lib/hist.c lib/fields.c blk/ramdisk.c virtio/vmmio.c virtio/vq.c arch/fake/fake.c \
	lib/log.c tests/unit/fake_guest.c
fuzz_vmmio_SRCS   := blk/vblk.c lib/hist.c lib/fields.c blk/ramdisk.c virtio/vmmio.c virtio/vq.c arch/fake/fake.c \
	lib/log.c tests/unit/fake_guest.c
fuzz_xs_reply_SRCS := hyp/xs.c hyp/xs_ring.c arch/fake/fake.c lib/log.c
fuzz_config_SRCS  := boot/config.c arch/fake/fake.c lib/log.c
fuzz_target_SRCS  := blk/target.c
fuzz_part_SRCS    := blk/part.c
fuzz_mmc_SRCS     := blk/mmc.c blk/mmcdisk.c arch/fake/fake.c lib/log.c
fuzz_backend_check_SRCS := boot/backend_check.c blk/target.c
fuzz_gmem_SRCS    := hyp/gmem.c hyp/xen.c tests/unit/fake_hypercalls.c arch/fake/fake.c lib/log.c
fuzz_ioreq_SRCS   := hyp/ioreq.c lib/hist.c lib/fields.c hyp/evtchn.c hyp/dm.c hyp/xen.c tests/unit/fake_hypercalls.c \
	arch/fake/fake.c lib/log.c
FUZZ_BINS := $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)

# One compile per target: a few files each, and every one of them instrumented for coverage.
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(fuzz_$$*_SRCS) $(FUZZ_HDRS) Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(fuzz_$*_SRCS)

fuzz: $(FUZZ_BINS)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# ---- where the request path's instructions go (not a test) ------------------------
# tests/perf/serve.c drives vdisk's real request path (gmem, walker, virtio-mmio, vblk, RAM
# disk) on the host; `make profile` runs it under valgrind's callgrind and lists the
# functions by instructions. Built like the firmware (-O2), without sanitizers.
PERF_SRCS := tests/perf/serve.c hyp/gmem.c hyp/xen.c blk/vblk.c lib/hist.c lib/fields.c blk/ramdisk.c virtio/vmmio.c \
	virtio/vq.c tests/unit/fake_hypercalls.c arch/fake/fake.c lib/log.c
PROFILE_REQUESTS ?= 20000
$(B)/perf/serve: $(PERF_SRCS) $(FUZZ_HDRS) Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(HOSTCC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -I. -Iarch/include \
		-Iarch/fake/include -DHOST_TEST \
		-D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__ -o $@ $(PERF_SRCS)

profile: $(B)/perf/serve
	valgrind --tool=callgrind --callgrind-out-file=$(B)/perf/callgrind.out $(B)/perf/serve \
		$(PROFILE_REQUESTS)
	callgrind_annotate --inclusive=no $(B)/perf/callgrind.out | head -n 40

# ---- image checks, rig, run ------------------------------------------------
image-test: $(B)/vdisk.img
	tests/image/run.sh $(B)/vdisk.img $(B)/vdisk.elf

GIC ?= 3 2
rig-test: $(B)/vdisk.img
	tests/rig/run.sh $(GIC)

test: $(B)/vdisk.img $(UNIT_BINS) $(DTB_FILES) $(FUZZ_BINS)
	tests/run-all.sh

run: $(B)/vdisk.img
	tests/rig/run.sh --demo

# Boot timing of layouts A and B from U-Boot under -icount (a measurement, not a test).
boot-timing: $(B)/vdisk.img
	tools/boot-timing.sh

# A benchmark, not a test (not part of `make test`): BENCH_IOS=N I/Os per fio job.
bench: $(B)/vdisk.img
	tools/bench.sh $(BENCH_IOS)

clean:
	rm -rf $(B)

# Also drops the cache of downloads and builds (Xen, dom0, arm64 packages).
distclean: clean
	rm -rf $(CACHE)
