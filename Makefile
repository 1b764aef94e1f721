# SPDX-License-Identifier: MIT
# fh: kernel-bypass market-data feed handler. One Makefile, sources found by name:
#   <stage>/*.c (feed decode book engine publish config perf)  -> $(BUILD)/libfh.a
#   tools/fh-NAME.c -> $(BUILD)/fh-NAME   tools/fh_main.c -> $(BUILD)/fh
#   tools/fh_*.c (other) -> $(BUILD)/libfhtools.a
#   tests/test_NAME.c -> $(BUILD)/tests/test_NAME   tests/ref_*.c -> $(BUILD)/libfhref.a
#   tests/fuzz_NAME.c -> $(BUILD)/fuzz/fuzz_NAME (clang, libFuzzer)
#   tests/*.cpp -> $(BUILD)/tests/NAME (C++ test peers, QuickFIX)
#   perf/bench_NAME.c -> $(BUILD)/bench_NAME
# V=1 for full command lines; CI=true adds -Werror; SANITIZE=address,undefined
# builds into build-san/ without jemalloc (ASan owns malloc there).

# Parallel by default (one job per CPU) unless -j was given.
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc)
endif

SANITIZE ?=
ifneq ($(SANITIZE),)
BUILD ?= build-san
else
BUILD ?= build
endif
export BUILD

CC ?= cc
ifeq ($(CC),cc)
CC := gcc
endif
CXX := g++
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 600
MARCH ?= native

ifeq ($(V),1)
Q :=
else
Q := @
endif

PKGS := libdpdk rdkafka liburing numa libpcap yaml-0.1 zlib
ifeq ($(SANITIZE),)
PKGS += jemalloc
endif

# pkg-config is queried only when it exists (a fresh machine runs `make deps` first).
# DPDK's flags pin -march=corei7; ours (MARCH, default native) must win.
PKG_CFLAGS = $(filter-out -march=%,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# DPDK's warning set (config/meson.build), plus our own.
WARNINGS := -Wall -Wextra -Wcast-qual -Wdeprecated -Wformat -Wformat-nonliteral \
	-Wformat-security -Wmissing-declarations -Wmissing-prototypes \
	-Wnested-externs -Wold-style-definition -Wpointer-arith -Wsign-compare \
	-Wstrict-prototypes -Wundef -Wwrite-strings -Wno-address-of-packed-member \
	-Wno-packed-not-aligned -Wno-missing-field-initializers
ifeq ($(CI),true)
WARNINGS += -Werror
endif

INCS := -Ifeed -Idecode -Ibook -Iengine -Ipublish -Iconfig -Iperf -Itools -Itests
BASE_CFLAGS := -std=gnu11 -g -O3 -march=$(MARCH) -D_GNU_SOURCE $(INCS) -MMD -MP
ifneq ($(SANITIZE),)
BASE_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all -DFH_SANITIZE=1
LDSAN := -fsanitize=$(SANITIZE)
endif
CFLAGS_ALL = $(BASE_CFLAGS) $(WARNINGS) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS_ALL = $(LDSAN) $(PKG_LIBS) -lpthread -lm $(EXTRA_LDLIBS)

STAGES := feed decode book engine publish config perf
LIB_SRCS := $(foreach d,$(STAGES),$(wildcard $(d)/*.c))
LIB_SRCS := $(filter-out perf/bench_%.c,$(LIB_SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)

TOOL_MAINS := $(wildcard tools/fh-*.c)
TOOL_LIB_SRCS := $(filter-out tools/fh-%.c tools/fh_main.c,$(wildcard tools/*.c))
TOOL_LIB_OBJS := $(TOOL_LIB_SRCS:%.c=$(BUILD)/obj/%.o)
TOOLS := $(TOOL_MAINS:tools/%.c=$(BUILD)/%)
APP := $(if $(wildcard tools/fh_main.c),$(BUILD)/fh)

TEST_SRCS := $(wildcard tests/test_*.c)
TESTS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
REF_SRCS := $(wildcard tests/ref_*.c)
REF_OBJS := $(REF_SRCS:%.c=$(BUILD)/obj/%.o)
CXX_SRCS := $(wildcard tests/*.cpp)
CXX_BINS := $(CXX_SRCS:tests/%.cpp=$(BUILD)/tests/%)

BENCH_SRCS := $(wildcard perf/bench_*.c)
BENCHES := $(BENCH_SRCS:perf/%.c=$(BUILD)/%)

FUZZ_SRCS := $(wildcard tests/fuzz_*.c)
FUZZERS := $(FUZZ_SRCS:tests/%.c=$(BUILD)/fuzz/%)
FUZZ_LIB_SRCS := $(filter-out feed/fh_dpdk%.c feed/fh_rx.c,$(LIB_SRCS))

.PHONY: all test bench fuzz fuzz-build run deps clean regress
.SECONDARY:
all: deps-check $(BUILD)/libfh.a $(APP) $(TOOLS) $(TESTS) $(CXX_BINS) $(BENCHES)

# `make deps` installs what is missing; every build checks first (quick when all is there).
deps:
	@sh tools/deps.sh
deps-check:
	@sh tools/deps.sh
.PHONY: deps-check

# Order-only on deps-check: with -j, nothing compiles before the packages are in.
$(BUILD)/obj/%.o: %.c | deps-check
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libfh.a: $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libfhtools.a: $(TOOL_LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libfhref.a: $(REF_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fh: $(BUILD)/obj/tools/fh_main.o $(BUILD)/libfhtools.a $(BUILD)/libfh.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

$(BUILD)/fh-%: $(BUILD)/obj/tools/fh-%.o $(BUILD)/libfhtools.a $(BUILD)/libfh.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/test_%.o $(BUILD)/libfhref.a $(BUILD)/libfhtools.a $(BUILD)/libfh.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/%.cpp | deps-check
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CXX     $<")
	$(Q)$(CXX) -std=gnu++14 -g -O1 $(if $(SANITIZE),-fsanitize=$(SANITIZE)) $< -o $@ -lquickfix -lpthread

$(BUILD)/bench_%: $(BUILD)/obj/perf/bench_%.o $(BUILD)/libfhtools.a $(BUILD)/libfh.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

# libFuzzer targets: clang with ASan+UBSan. The library is instrumented once
# (fuzzer-no-link) into libfh-fuzz.a and every target links against it.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -std=gnu11 -g -O1 -march=$(MARCH) -D_GNU_SOURCE -DFH_FUZZ=1 $(INCS) $(FUZZ_SAN) \
	$(filter-out -march=%,$(shell pkg-config --cflags libdpdk yaml-0.1 zlib 2>/dev/null))
FUZZ_OBJS := $(FUZZ_LIB_SRCS:%.c=$(BUILD)/fuzzobj/%.o) $(TOOL_LIB_SRCS:%.c=$(BUILD)/fuzzobj/%.o)
$(BUILD)/fuzzobj/%.o: %.c | deps-check
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(BUILD)/libfh-fuzz.a: $(FUZZ_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/%: tests/%.c $(BUILD)/libfh-fuzz.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ -o $@ $(shell pkg-config --libs $(filter-out jemalloc,$(PKGS)) 2>/dev/null) -lpthread -lm

fuzz-build: deps-check $(FUZZERS)
fuzz: fuzz-build
	@set -e; for f in $(FUZZERS); do \
		n=$$(basename $$f); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
		echo "  FUZZ    $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(BUILD)/fuzz/corpus-$$n tests/corpus/$$n 2>&1 | tail -n 12; \
	done

test: all fuzz-build
	@FH_BUILD=$(BUILD) bash tests/run.sh

# Replays tests/regress/ captures through fh and compares their digests
# (also part of `make test`, as tests/e2e_regress.sh).
regress: all
	@FH_BUILD=$(BUILD) bash tests/regress/run.sh

bench: all
	@FH_BUILD=$(BUILD) bash perf/run.sh

run: all
	@FH_BUILD=$(BUILD) bash tools/run.sh

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj $(BUILD)/fuzzobj -name '*.d' 2>/dev/null)
