# mini-kvm - top-level build. `make` builds ./mini-kvm and every guest;
# `make check` runs all tests; `make run` boots the default Linux guest.
CC      ?= cc
# CFLAGS is the user's (`make CFLAGS='-O0 -g'`); the project's own flags are
# appended with `override`, so a command-line CFLAGS cannot drop -std=c11
# (strict C11: no GNU `linux`/`unix` macros), -D_GNU_SOURCE or -Isrc.
CFLAGS  ?= -O2 -g
PROJECT_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -MMD -MP
override CFLAGS += $(PROJECT_CFLAGS)
# jansson and http-parser: the control API (docs/api.md)
LDLIBS  += -ljansson -lhttp_parser -lpthread
# Statically linked, like Firecracker: no dynamic loader at start-up and about
# 0.5 MiB less RSS (docs/benchmarks.md). `make LDFLAGS=` builds it dynamic.
LDFLAGS ?= -static
BUILD   := build

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
REAL_GUESTS := $(patsubst guests/real/%.S,%.bin,$(wildcard guests/real/*.S))
LONG_GUESTS := $(patsubst guests/long/%.S,%.bin,$(wildcard guests/long/*.S))
# The multiboot test kernel (guests/multiboot/): mbtest.elf (ELF32) and
# mbtest-aout.bin (flat, a.out-kludge header), both at 1 MiB.
MB_GUESTS   := mbtest.elf mbtest-aout.bin
# Boot sectors: guests/boot/NAME.S -> NAME.img, a one-sector disk image
# (linked at 0x7C00; the source ends with the 0x55AA signature at 510).
BOOT_GUESTS := $(patsubst guests/boot/%.S,%.img,$(wildcard guests/boot/*.S))
GUESTS      := $(REAL_GUESTS) $(LONG_GUESTS) $(MB_GUESTS) $(BOOT_GUESTS)

# The conformance guest (guests/pc/): a boot sector and a small 32-bit kernel
# on a raw disk image. pc-test-paging.img is the same image with the boot
# sector's flag byte (offset 508) = 3: it also turns on PSE paging and
# returns from interrupts with IRET, which only a hardware KVM runs
# (docs/conformance-guest.md).
PC_SRCS   := $(wildcard guests/pc/*.S guests/pc/*.c)
PC_OBJS   := $(PC_SRCS:guests/pc/%=$(BUILD)/guests/pc/%.o)
PC_CFLAGS := -m32 -std=c11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-pic -fno-pie \
             -nostdlib -fno-stack-protector -mgeneral-regs-only -fno-asynchronous-unwind-tables
PC_IMGS   := pc-test.img pc-test-paging.img

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

all: mini-kvm $(GUESTS) $(PC_IMGS) os

mini-kvm: $(OBJS)
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
	$(CC) -m32 $(GUEST_ABI) -c -Iguests/real -o $(BUILD)/guests/$*.o $<
	ld -m elf_i386 -Ttext 0 --oformat binary -o $@ $(BUILD)/guests/$*.o

$(LONG_GUESTS): %.bin: guests/long/%.S $(wildcard guests/long/*.inc)
	@mkdir -p $(BUILD)/guests
	$(CC) -m64 $(GUEST_ABI) -c -Iguests/long -o $(BUILD)/guests/$*.o $<
	ld -m elf_x86_64 -Ttext 0x100000 --oformat binary -o $@ $(BUILD)/guests/$*.o

mbtest.elf: guests/multiboot/mbtest.S guests/multiboot/mbtest.ld
	@mkdir -p $(BUILD)/guests
	$(CC) -m32 -c -o $(BUILD)/guests/mbtest.o $<
	ld -m elf_i386 -T guests/multiboot/mbtest.ld -z max-page-size=0x1000 \
	    --no-warn-rwx-segments -o $@ $(BUILD)/guests/mbtest.o

mbtest-aout.bin: guests/multiboot/mbtest.S guests/multiboot/mbtest.ld
	@mkdir -p $(BUILD)/guests
	$(CC) -m32 -DAOUT -c -o $(BUILD)/guests/mbtest-aout.o $<
	ld -m elf_i386 -T guests/multiboot/mbtest.ld --oformat binary -o $@ \
	    $(BUILD)/guests/mbtest-aout.o

$(BUILD)/guests/pc/%.S.o: guests/pc/%.S
	@mkdir -p $(dir $@)
	$(CC) -m32 $(GUEST_ABI) -c -o $@ $<

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
	$(CC) -m32 $(GUEST_ABI) -c -Iguests/boot -o $(BUILD)/guests/$*.o $<
	ld -m elf_i386 -Ttext 0x7C00 --oformat binary -o $@ $(BUILD)/guests/$*.o

# The teaching OS (os/) builds os.elf and os-disk.img in the repo root.
os:
	@if [ -f os/Makefile ]; then $(MAKE) -C os; fi

$(BUILD)/tests/%: tests/unit/%.c $(LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do timeout 60 $$t; done

# Every source must also compile cleanly with clang (gcc builds the binary).
clang-check:
	@set -e; for f in $(SRCS); do clang $(filter-out -MMD -MP,$(CFLAGS)) -fsyntax-only $$f; done
	@echo "clang: $(words $(SRCS)) files clean"

# libFuzzer target for the GDB stub's packet parser (needs clang; not part of
# all/check): `make fuzz` runs it for FUZZ_SECONDS, corpus in build/fuzz/corpus.
FUZZ_SECONDS ?= 60
FUZZ_SRCS := src/debug/gdb_packet.c src/debug/gdb_proto.c src/debug/gdb_x86.c
$(BUILD)/fuzz/gdb_packet: fuzz/gdb_packet.c $(FUZZ_SRCS) tests/unit/gdb_fake.h
	@mkdir -p $(BUILD)/fuzz/corpus
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -Itests/unit \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ fuzz/gdb_packet.c $(FUZZ_SRCS)

fuzz: $(BUILD)/fuzz/gdb_packet
	$(BUILD)/fuzz/gdb_packet -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	    -artifact_prefix=$(BUILD)/fuzz/ \
	    -dict=fuzz/gdb_packet.dict $(BUILD)/fuzz/corpus

# `make check` / `make run` first install what they need (Debian packages).
setup-check:
	@tools/setup-host check

setup-run:
	@tools/setup-host run

check: setup-check
	$(MAKE) all
	$(MAKE) clang-check unit
	tests/run-integration

run: setup-run
	$(MAKE) all
	tools/run-linux

clean:
	rm -rf $(BUILD) build-asan mini-kvm mini-kvm-asan $(GUESTS) $(PC_IMGS)
	@if [ -f os/Makefile ]; then $(MAKE) -C os clean; fi

# Guests follow a change of the ABI header.
$(REAL_GUESTS) $(LONG_GUESTS) $(BOOT_GUESTS) $(PC_OBJS): src/abi/mkvm_abi.h

.PHONY: all os unit clang-check check run clean setup-check setup-run fuzz FORCE
FORCE:
-include $(OBJS:.o=.d)
