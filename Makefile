# mini-kvm - top-level build. `make` builds ./mini-kvm and every guest;
# `make check` runs all tests; `make run` boots the default Linux guest.
CC      ?= cc
# CFLAGS is the user's (`make CFLAGS='-O0 -g'`); the project's own flags are
# appended with `override`, so a command-line CFLAGS cannot drop -std=c11
# (strict C11: no GNU `linux`/`unix` macros), -D_GNU_SOURCE or -Isrc.
CFLAGS  ?= -O2 -g
BUILD   := build
PROJECT_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -I$(BUILD)/gen -MMD -MP
override CFLAGS += $(PROJECT_CFLAGS)
# jansson and http-parser: the control API (docs/api.md). libseccomp is used
# at build time only, by tools/seccomp-gen (docs/security.md).
LDLIBS  += -ljansson -lhttp_parser -lpthread
# Statically linked, like Firecracker: no dynamic loader at start-up and about
# 0.5 MiB less RSS (docs/benchmarks.md). `make LDFLAGS=` builds it dynamic.
LDFLAGS ?= -static

SRCS    := $(wildcard src/*.c src/*/*.c src/*/*/*.c)
ASMS    := $(wildcard src/*/*.S)
OBJS    := $(SRCS:%.c=$(BUILD)/%.o) $(ASMS:%.S=$(BUILD)/%.o)
LIBOBJS := $(filter-out $(BUILD)/src/main.o,$(OBJS))

# Teaching guests: guests/real/NAME.S -> NAME.bin (16-bit, loaded at 0x10000
# with CS=0x1000, so linked at 0); guests/long/NAME.S -> NAME.bin (64-bit,
# linked at 0x100000). The .bin files land in the repo root.
# Every assembler guest sees the host/guest ABI (hypercall port and numbers)
# from its one definition, src/abi/mkvm_abi.h (C guests #include it).
GUEST_ABI   := -include src/abi/mkvm_abi.h
# Guest assembler warnings are errors: `in $0x510, %al` (a port that does not
# fit the 8-bit immediate) is only a warning to gas, which then uses 0x10.
GUEST_AS    := -Wa,--fatal-warnings
REAL_GUESTS := $(patsubst guests/real/%.S,%.bin,$(wildcard guests/real/*.S))
LONG_GUESTS := $(patsubst guests/long/%.S,%.bin,$(wildcard guests/long/*.S))
# The multiboot test kernel (guests/multiboot/): mbtest.elf (ELF32) and
# mbtest-aout.bin (flat, a.out-kludge header), both at 1 MiB.
MB_GUESTS   := mbtest.elf mbtest-aout.bin
# Boot sectors: guests/boot/NAME.S -> NAME.img, a one-sector disk image
# (linked at 0x7C00; the source ends with the 0x55AA signature at 510).
BOOT_GUESTS := $(patsubst guests/boot/%.S,%.img,$(wildcard guests/boot/*.S))
# hostile.elf (guests/hostile/): an ELF64 kernel that abuses its virtio-blk
# disk, for tests/integration/test_hostile.py and bench/durability.sh.
HOSTILE     := hostile.elf
GUESTS      := $(REAL_GUESTS) $(LONG_GUESTS) $(MB_GUESTS) $(BOOT_GUESTS) $(HOSTILE)

# The conformance guest (guests/pc/): a boot sector and a small 32-bit kernel
# on a raw disk image. pc-test-paging.img is the same image with the boot
# sector's flag byte (offset 508) = 3: it also turns on PSE paging and
# returns from interrupts with IRET, which only a hardware KVM runs
# (docs/conformance-guest.md).
PC_SRCS   := $(wildcard guests/pc/*.S guests/pc/*.c)
PC_OBJS   := $(PC_SRCS:guests/pc/%=$(BUILD)/guests/pc/%.o)
PC_CFLAGS := -m32 $(GUEST_AS) -std=c11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-pic -fno-pie \
             -nostdlib -fno-stack-protector -mgeneral-regs-only -fno-asynchronous-unwind-tables
PC_IMGS   := pc-test.img pc-test-paging.img

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

all: mini-kvm $(GUESTS) $(PC_IMGS) os bare-kvm $(BUILD)/test/mini-kvm-seccomp-hook \
     $(BUILD)/vsock-helper $(BUILD)/iops-helper

# The tutorial's first program (docs/tutorial.md): KVM and nothing else.
bare-kvm: examples/bare-kvm.c
	$(CC) $(filter-out -MMD -MP -Isrc,$(CFLAGS)) $(LDFLAGS) -o $@ $<

mini-kvm: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The SIGSYS report names the forbidden call: x86-64 names by number, from
# the kernel headers (a signal handler cannot ask libseccomp, it allocates).
$(BUILD)/gen/syscall_names.h:
	@mkdir -p $(dir $@)
	echo '#include <asm/unistd_64.h>' | $(CC) -dM -E - | \
	    sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9]*\)$$/[\2] = "\1",/p' > $@
# The per-thread seccomp filters, compiled to BPF at build time with
# libseccomp from src/core/seccomp_rules.c (docs/security.md).
$(BUILD)/gen/seccomp-gen: tools/seccomp-gen.c src/core/seccomp_rules.c src/core/seccomp_rules.h \
                          src/core/sandbox.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ tools/seccomp-gen.c src/core/seccomp_rules.c -lseccomp
$(BUILD)/gen/seccomp_bpf.h: $(BUILD)/gen/seccomp-gen
	$< > $@.tmp && mv $@.tmp $@
GEN_HEADERS := $(BUILD)/gen/syscall_names.h $(BUILD)/gen/seccomp_bpf.h
$(BUILD)/src/core/sandbox.o: $(GEN_HEADERS)

# Test build only: a vCPU thread makes one forbidden call once sealed
# (tests/integration/test_security.py); the normal binary has no such code.
$(BUILD)/test/sandbox_hook.o: src/core/sandbox.c $(GEN_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DMKVM_TEST_HOOKS -c -o $@ $<
$(BUILD)/test/mini-kvm-seccomp-hook: $(filter-out $(BUILD)/src/core/sandbox.o,$(OBJS)) \
                                     $(BUILD)/test/sandbox_hook.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ./mini-kvm-asan: the same sources with ASan + UBSan (any report is fatal),
# in build-asan/, linked dynamically (ASan cannot be static). Built through
# `make CFLAGS=... LDFLAGS=`, so it also checks that the project's flags
# survive a command-line CFLAGS. `make check` runs the direct integration
# tests against it (docs/testing.md, "Sanitizers").
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=all
mini-kvm-asan: FORCE
	$(MAKE) BUILD=build-asan CFLAGS='$(ASAN_CFLAGS)' LDFLAGS= build-asan/mini-kvm
	cp build-asan/mini-kvm $@

$(BUILD)/mini-kvm: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/src/%.o: src/%.S
	@mkdir -p $(dir $@)
	$(CC) -c -o $@ $<

$(REAL_GUESTS): %.bin: guests/real/%.S $(wildcard guests/real/*.inc)
	@mkdir -p $(BUILD)/guests
	$(CC) -m32 $(GUEST_ABI) $(GUEST_AS) -c -Iguests/real -o $(BUILD)/guests/$*.o $<
	ld -m elf_i386 -Ttext 0 --oformat binary -o $@ $(BUILD)/guests/$*.o

$(LONG_GUESTS): %.bin: guests/long/%.S $(wildcard guests/long/*.inc)
	@mkdir -p $(BUILD)/guests
	$(CC) -m64 $(GUEST_ABI) $(GUEST_AS) -c -Iguests/long -o $(BUILD)/guests/$*.o $<
	ld -m elf_x86_64 -Ttext 0x100000 --oformat binary -o $@ $(BUILD)/guests/$*.o

hostile.elf: guests/hostile/hostile.S
	@mkdir -p $(BUILD)/guests
	$(CC) $(GUEST_AS) -c -o $(BUILD)/guests/hostile.o $<
	ld -m elf_x86_64 -Ttext 0x100000 -z noexecstack --no-warn-rwx-segments -o $@ \
	    $(BUILD)/guests/hostile.o

uart64.bin: guests/real/uart.S     # the long-mode build of the same source

mbtest.elf: guests/multiboot/mbtest.S guests/multiboot/mbtest.ld
	@mkdir -p $(BUILD)/guests
	$(CC) -m32 $(GUEST_AS) -c -o $(BUILD)/guests/mbtest.o $<
	ld -m elf_i386 -T guests/multiboot/mbtest.ld -z max-page-size=0x1000 \
	    --no-warn-rwx-segments -o $@ $(BUILD)/guests/mbtest.o

mbtest-aout.bin: guests/multiboot/mbtest.S guests/multiboot/mbtest.ld
	@mkdir -p $(BUILD)/guests
	$(CC) -m32 $(GUEST_AS) -DAOUT -c -o $(BUILD)/guests/mbtest-aout.o $<
	ld -m elf_i386 -T guests/multiboot/mbtest.ld --oformat binary -o $@ \
	    $(BUILD)/guests/mbtest-aout.o

$(BUILD)/guests/pc/%.S.o: guests/pc/%.S
	@mkdir -p $(dir $@)
	$(CC) -m32 $(GUEST_ABI) $(GUEST_AS) -c -o $@ $<

$(BUILD)/guests/pc/%.c.o: guests/pc/%.c guests/pc/pc.h
	@mkdir -p $(dir $@)
	$(CC) $(PC_CFLAGS) -c -o $@ $<

pc-test.img: $(PC_OBJS) guests/pc/pc.ld
	ld -m elf_i386 -z noexecstack --no-warn-rwx-segments -T guests/pc/pc.ld -o $(BUILD)/guests/pc/pc-test.elf $(PC_OBJS)
	objcopy -O binary $(BUILD)/guests/pc/pc-test.elf $@

pc-test-paging.img: pc-test.img
	cp $< $@
	printf '\003' | dd of=$@ bs=1 seek=508 conv=notrunc status=none

$(BOOT_GUESTS): %.img: guests/boot/%.S guests/boot/com1.inc
	@mkdir -p $(BUILD)/guests
	$(CC) -m32 $(GUEST_ABI) $(GUEST_AS) -c -Iguests/boot -o $(BUILD)/guests/$*.o $<
	ld -m elf_i386 -Ttext 0x7C00 --oformat binary -o $@ $(BUILD)/guests/$*.o

# The vsock tests' helper (busybox has no vsock tool): static, so the same
# binary runs in L1 and, read from a virtio disk, in the Linux guest.
$(BUILD)/vsock-helper: tests/helpers/vsock.c
	@mkdir -p $(BUILD)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static -o $@ $<

# bench/blk.sh's 4 KiB random-read helper (busybox has no fio), static: it
# goes into the benchmark's initramfs and runs the same under every VMM.
$(BUILD)/iops-helper: bench/iops.c
	@mkdir -p $(BUILD)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static -pthread -o $@ $<

# The teaching OS (os/) builds os.elf and os-disk.img in the repo root.
os:
	@if [ -f os/Makefile ]; then $(MAKE) -C os; fi

$(BUILD)/tests/%: tests/unit/%.c $(LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do timeout 60 $$t; done

# Every source must also compile cleanly with clang (gcc builds the binary).
clang-check: $(GEN_HEADERS)
	@set -e; for f in $(SRCS) examples/bare-kvm.c; do clang $(filter-out -MMD -MP,$(CFLAGS)) -fsyntax-only $$f; done
	@echo "clang: $(words $(SRCS)) files clean"

# libFuzzer targets (fuzz/, docs/security.md): every parser of untrusted bytes,
# built with clang's fuzzer, ASan and UBSan. `make fuzz` builds them and their
# seed corpora (generated, never committed); `make fuzz-smoke` gives each
# FUZZ_SMOKE_SECONDS, two at a time (2 cores); `make fuzz-long` runs each to
# FUZZ_RUNS executions under nice. A crash fails the run and leaves
# build/fuzz/NAME/crash-*; `build/fuzz/NAME/fuzzer FILE` replays it.
FUZZ_TARGETS := elf bzimage bootsector multiboot virtio_blk hypercall serial i8042 \
                acpi_pm legacy_ports ide gdb_packet virtio_rng virtio_net api_http snapshot_file \
                virtio_vsock
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_RUNS ?= 10000000
FUZZ_CFLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -I$(BUILD)/gen -Ifuzz -Itests/unit \
               -fsanitize=address,undefined -fno-sanitize-recover=all
# The fixture (fuzz_vm, and fake_iothread instead of the real I/O thread)
# is no code under test: no coverage feedback from its loops.
FUZZ_FIXTURE := fuzz_vm fake_iothread
FUZZ_OBJS := $(filter-out $(BUILD)/fuzz/obj/src/main.o $(BUILD)/fuzz/obj/src/core/iothread.o,\
                          $(SRCS:%.c=$(BUILD)/fuzz/obj/%.o)) \
             $(ASMS:%.S=$(BUILD)/fuzz/obj/%.o) $(FUZZ_FIXTURE:%=$(BUILD)/fuzz/obj/fuzz/%.o)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%/fuzzer)

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

# The console's per-byte loops (line splitting, escape tracking) compare each
# byte of guest output with constants: traced, they were 85% of the
# hypercall target's time on 64 KiB WRITEs. Edge coverage and ASan stay.
$(BUILD)/fuzz/obj/src/core/console.o: FUZZ_CFLAGS += -fno-sanitize-coverage=trace-cmp

$(FUZZ_FIXTURE:%=$(BUILD)/fuzz/obj/fuzz/%.o): $(BUILD)/fuzz/obj/fuzz/%.o: fuzz/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/fuzz/obj/%.o: %.S
	@mkdir -p $(dir $@)
	clang -c -o $@ $<

$(BUILD)/fuzz/libmkvm.a: $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/obj/src/core/sandbox.o: $(GEN_HEADERS)
$(BUILD)/fuzz/%/fuzzer: fuzz/%.c $(BUILD)/fuzz/libmkvm.a
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(BUILD)/fuzz/libmkvm.a $(LDLIBS) \
	    $(FUZZ_LDFLAGS_$*)
# vsock's target answers for the kernel (/dev/vhost-vsock, KVM_IOEVENTFD).
FUZZ_LDFLAGS_virtio_vsock := -Wl,--wrap=open,--wrap=ioctl

$(BUILD)/fuzz/gen_seeds: fuzz/gen_seeds.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -o $@ $<

# Seeds: the generator's, plus the repo's own guests when they are built.
fuzz-seeds: $(BUILD)/fuzz/gen_seeds
	$(BUILD)/fuzz/gen_seeds $(BUILD)/fuzz
	@for f in os.elf; do [ ! -f $$f ] || cp $$f $(BUILD)/fuzz/elf/seeds/; done
	@for f in mbtest.elf mbtest-aout.bin; do [ ! -f $$f ] || cp $$f $(BUILD)/fuzz/multiboot/seeds/; done
	@for f in $(BOOT_GUESTS) hello.bin; do [ ! -f $$f ] || cp $$f $(BUILD)/fuzz/bootsector/seeds/; done

fuzz: $(FUZZ_BINS) fuzz-seeds

fuzz-run-%: fuzz
	@fuzz/run.sh $* seconds $(FUZZ_SMOKE_SECONDS)

fuzz-smoke: fuzz
	@$(MAKE) --no-print-directory -j2 $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-long-%: fuzz
	@nice -n 10 fuzz/run.sh $* runs $(FUZZ_RUNS)

# One target at a time by default (FUZZ_LONG_JOBS): a campaign leaves a core free.
FUZZ_LONG_JOBS ?= 1
fuzz-long: fuzz
	@$(MAKE) --no-print-directory -j$(FUZZ_LONG_JOBS) $(FUZZ_TARGETS:%=fuzz-long-%)

# kill -9 durability trials (docs/security.md): 100 here, 5 in make check.
soak: mini-kvm hostile.elf
	bench/durability.sh 100

# `make check` / `make run` first install what they need (Debian packages).
setup-check:
	@tools/setup-host check

setup-run:
	@tools/setup-host run

check: setup-check
	$(MAKE) all
	$(MAKE) clang-check unit
	$(MAKE) fuzz-smoke
	tests/run-integration
	$(MAKE) check-asan

# The unit tests and the direct integration tests again, built with ASan+UBSan
# (objects shared with ./mini-kvm-asan): any ASan, LSan or UBSan report fails
# the unit test, or the integration test it happened in (conftest.py).
check-asan: mini-kvm-asan
	$(MAKE) BUILD=build-asan CFLAGS='$(ASAN_CFLAGS)' LDFLAGS= unit
	MINI_KVM=mini-kvm-asan tests/run-integration --lab=never

run: setup-run
	$(MAKE) all
	tools/run-linux

clean:
	rm -rf $(BUILD) build-asan mini-kvm mini-kvm-asan bare-kvm $(GUESTS) $(PC_IMGS)
	@if [ -f os/Makefile ]; then $(MAKE) -C os clean; fi

# Guests follow a change of the ABI header.
$(REAL_GUESTS) $(LONG_GUESTS) $(BOOT_GUESTS) $(PC_OBJS): src/abi/mkvm_abi.h

.PHONY: all os unit clang-check check run clean setup-check setup-run fuzz check-asan FORCE \
        fuzz-seeds fuzz-smoke fuzz-long soak
FORCE:
-include $(OBJS:.o=.d) $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
