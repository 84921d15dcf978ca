# wsx - build, test and tooling. Outputs go to $(BUILD) only.
#   make            libwsx.a, libwsx.so (soname libwsx.so.0), wsx.pc
#   make test       every test; ends with "N passed, M failed"
#   make check      the unit tests under ASan+UBSan, then under valgrind
#   make demo       build and run the telemetry dashboard on 127.0.0.1:8080
#   make cross      core for Cortex-M4 (.text size), unit tests on s390x, and
#                   firmware images on an emulated Cortex-M4 with the budget
#   make fuzz       every fuzz target for FUZZ_SECONDS each
#   make bench      micro-benchmarks (never part of make test)
#   make install    PREFIX=/usr/local DESTDIR=
#   make TLS=0      without TLS (default: OpenSSL when pkg-config finds it)

VERSION   := 0.1.0
SOMAJOR   := 0
CC        ?= cc
BUILD     ?= build
PREFIX    ?= /usr/local
OPT       ?= -O2 -g
WARN      := -std=c11 -Wall -Wextra -Werror -pedantic -Wshadow -Wstrict-prototypes
CFLAGS    ?=
CFLAGS_ALL = $(WARN) $(OPT) $(CFLAGS) -Iinclude -D_POSIX_C_SOURCE=200809L
LIBCFLAGS  = $(CFLAGS_ALL) -fPIC -fvisibility=hidden -DWSX_BUILDING $(TLS_CFLAGS)
UNAME     := $(shell uname -s)

CORE_SRC    := $(sort $(wildcard lib/core/*.c))
DEFLATE_SRC := $(sort $(wildcard lib/deflate/*.c))
# lib/loop is the event loop; lib/adapters holds its poller backends.
ADAPT_SRC   := $(sort $(wildcard lib/loop/*.c)) lib/adapters/poll.c
ifeq ($(UNAME),Linux)
ADAPT_SRC   += $(wildcard lib/adapters/epoll.c)
else
ADAPT_SRC   += $(wildcard lib/adapters/kqueue.c)
endif
# TLS (lib/tls, include/wsx_tls.h): the OpenSSL 3 backend when pkg-config
# finds libssl, or TLS=0 for a build whose TLS calls fail and that links
# no OpenSSL symbol.
TLS       ?= $(shell pkg-config --exists openssl 2>/dev/null && echo openssl || echo 0)
TLS_SRC   := lib/tls/tls_opts.c
TLS_CFLAGS :=
LDLIBS_EXTRA :=
ifeq ($(TLS),0)
TLS_SRC   += lib/tls/tls_none.c
else
TLS_SRC   += lib/tls/tls_openssl_ctx.c lib/tls/tls_openssl_stream.c
TLS_CFLAGS := $(shell pkg-config --cflags openssl)
LDLIBS_EXTRA += $(or $(strip $(shell pkg-config --libs openssl)),-lssl -lcrypto)
endif
LIB_SRC := $(CORE_SRC) $(DEFLATE_SRC) $(ADAPT_SRC) $(TLS_SRC)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)

STATIC := $(BUILD)/libwsx.a
SHARED := $(BUILD)/libwsx.so.$(VERSION)
PCFILE := $(BUILD)/wsx.pc

UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
E2E_SRC   := $(sort $(wildcard tests/e2e/test_*.c))
E2E_BIN   := $(E2E_SRC:tests/e2e/%.c=$(BUILD)/tests/%)
# Examples: every examples/*.c is a program, examples/chat/ is one too;
# examples/common/ is the boilerplate they share. libuv_* need libuv:
# built only when pkg-config finds it.
HAVE_UV   := $(shell pkg-config --exists libuv 2>/dev/null && echo 1)
EX_SRC    := $(filter-out examples/libuv_%.c,$(sort $(wildcard examples/*.c)))
EX_BIN    := $(EX_SRC:examples/%.c=$(BUILD)/examples/%) $(BUILD)/examples/chat \
             $(BUILD)/examples/dashboard
ifeq ($(HAVE_UV),1)
EX_BIN    += $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/libuv_*.c))
endif
EX_COMMON := $(BUILD)/examples/obj/common/cli.o $(BUILD)/examples/obj/common/workers.o $(BUILD)/examples/obj/common/tls.o
CHAT_SRC  := $(sort $(wildcard examples/chat/*.c))
DASH_SRC  := $(sort $(wildcard examples/dashboard/*.c))
CJSON     := $(shell pkg-config --cflags --libs libcjson 2>/dev/null || echo -lcjson)
# chat --redis talks to Redis through hiredis (Debian libhiredis-dev).
HIREDIS   := $(shell pkg-config --libs hiredis 2>/dev/null || echo -lhiredis)
LDLIBS    := -lm -pthread $(LDLIBS_EXTRA)

.PHONY: all lib examples tests test check check-asan check-valgrind demo \
        cross fuzz bench install uninstall clean
all: lib examples
lib: $(STATIC) $(SHARED) $(PCFILE)

$(BUILD)/obj/%.o: %.c $(wildcard include/*.h lib/*/*.h)
	@mkdir -p $(@D)
	$(CC) $(LIBCFLAGS) -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libwsx.so.$(SOMAJOR) -o $@ $^ $(LDLIBS)
	ln -sf libwsx.so.$(VERSION) $(BUILD)/libwsx.so.$(SOMAJOR)
	ln -sf libwsx.so.$(VERSION) $(BUILD)/libwsx.so

# pkg-config file for a prefix: build/wsx.pc for the default PREFIX, and
# written anew by install for the PREFIX being installed.
pc_text = prefix=$(1)\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: wsx\nDescription: embeddable RFC 6455 WebSocket library\nVersion: $(VERSION)\nLibs: -L$${libdir} -lwsx\nLibs.private: -lm -pthread$(if $(LDLIBS_EXTRA), $(LDLIBS_EXTRA))\nCflags: -I$${includedir}\n
$(PCFILE): Makefile
	@mkdir -p $(@D)
	printf '$(call pc_text,$(PREFIX))' > $@

# Tests and examples link the static library (internal headers allowed).
TESTCFLAGS = $(CFLAGS_ALL) -D_DEFAULT_SOURCE -Ilib/core -Ilib/deflate -Ilib/loop -Itests/unit

$(BUILD)/tests/%: tests/unit/%.c $(STATIC) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(TESTCFLAGS) $< -o $@ $(STATIC) $(LDLIBS) $(if $(findstring zlib,$*),-lz)

$(BUILD)/tests/%: tests/e2e/%.c $(STATIC) tests/unit/test.h $(wildcard tests/e2e/*.h)
	@mkdir -p $(@D)
	$(CC) $(TESTCFLAGS) $< -o $@ $(STATIC) $(LDLIBS)

# Examples see the public headers only (-Iinclude): they prove those are
# enough. They link the static library, like any user's program may.
EXCFLAGS = $(CFLAGS_ALL)
EX_HDR   = $(wildcard include/*.h examples/*/*.h)

$(BUILD)/examples/obj/%.o: examples/%.c $(EX_HDR)
	@mkdir -p $(@D)
	$(CC) $(EXCFLAGS) $(if $(findstring chat/,$<),$(filter -I%,$(CJSON))) -c $< -o $@

$(BUILD)/examples/libuv_%: examples/libuv_%.c $(EX_COMMON) $(STATIC) $(EX_HDR)
	@mkdir -p $(@D)
	$(CC) $(EXCFLAGS) $< $(EX_COMMON) -o $@ $(STATIC) $(LDLIBS) $$(pkg-config --cflags --libs libuv)

$(BUILD)/examples/chat: $(CHAT_SRC:examples/%.c=$(BUILD)/examples/obj/%.o) $(EX_COMMON) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(EXCFLAGS) $^ -o $@ $(LDLIBS) $(filter-out -I%,$(CJSON)) $(HIREDIS)

$(BUILD)/examples/%: examples/%.c $(EX_COMMON) $(STATIC) $(EX_HDR)
	@mkdir -p $(@D)
	$(CC) $(EXCFLAGS) $< $(EX_COMMON) -o $@ $(STATIC) $(LDLIBS)

# The dashboard: its page is compiled in as bytes (od is POSIX), with the
# chat room and protocol modules of examples/chat; the codec has a unit test of its own.
DASH_OBJ := $(DASH_SRC:examples/%.c=$(BUILD)/examples/obj/%.o)
$(BUILD)/examples/obj/dashboard/page.inc: examples/dashboard/index.html
	@mkdir -p $(@D)
	od -An -v -tu1 $< | sed -e 's/^ *//' -e 's/  */,/g' -e 's/$$/,/' > $@

$(BUILD)/examples/obj/dashboard/dashboard.o: $(BUILD)/examples/obj/dashboard/page.inc
$(BUILD)/examples/obj/dashboard/dashboard.o: EXCFLAGS += -I$(BUILD)/examples/obj/dashboard

$(BUILD)/examples/dashboard: $(DASH_OBJ) $(BUILD)/examples/obj/chat/room.o \
		$(BUILD)/examples/obj/chat/protocol.o $(EX_COMMON) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(EXCFLAGS) $^ -o $@ $(LDLIBS) $(filter-out -I%,$(CJSON))

$(BUILD)/tests/dashboard/test_telemetry: tests/dashboard/test_telemetry.c examples/dashboard/telemetry.c \
		examples/dashboard/telemetry.h tests/unit/test.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -D_DEFAULT_SOURCE -Iexamples/dashboard -Itests/unit $(filter %.c,$^) -o $@ -lm

examples: $(EX_BIN)
tests: lib $(UNIT_BIN) $(E2E_BIN) examples $(BUILD)/tests/dashboard/test_telemetry

test: tests
	@WSX_T='$(T)' sh tests/run.sh $(BUILD)

# Sanitizers: a separate build tree so flags never mix.
check: check-asan check-valgrind
check-asan:
	$(MAKE) --no-print-directory BUILD=build/asan CC=clang \
	  OPT="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  WSX_SANITIZED=1 WSX_T='$(T)' sh tests/run.sh build/asan
check-valgrind: $(UNIT_BIN)
	@WSX_VALGRIND=1 WSX_T='$(T)' sh tests/run.sh $(BUILD) unit

demo: $(BUILD)/examples/dashboard
	@$(BUILD)/examples/dashboard --port 8080

# Portability: the core for a Cortex-M4, and the unit tests big-endian.
CROSS_SRC := $(CORE_SRC) $(DEFLATE_SRC)
cross:
	@mkdir -p $(BUILD)/cross/arm/lib/core $(BUILD)/cross/arm/lib/deflate $(BUILD)/cross/s390x
	for f in $(CROSS_SRC); do \
	  arm-none-eabi-gcc $(WARN) -Os -mcpu=cortex-m4 -mthumb -ffunction-sections \
	    -Iinclude -c $$f -o $(BUILD)/cross/arm/$${f%.c}.o || exit 1; done
	@for d in core deflate; do arm-none-eabi-size -t $(BUILD)/cross/arm/lib/$$d/*.o | tail -1 | \
	  awk -v d=$$d '{print "cortex-m4 -Os: lib/" d " .text = " $$1 " bytes"}'; done
	for t in $(filter-out %zlib.c,$(UNIT_SRC)); do \
	  s390x-linux-gnu-gcc $(WARN) -O1 -D_DEFAULT_SOURCE -Iinclude -Ilib/core -Ilib/deflate -Itests/unit \
	    -D_POSIX_C_SOURCE=200809L $$t $(CROSS_SRC) -o $(BUILD)/cross/s390x/$$(basename $$t .c) -lm \
	    || exit 1; done
	WSX_QEMU="qemu-s390x -L /usr/s390x-linux-gnu" sh tests/run.sh $(BUILD)/cross/s390x cross
	@$(MAKE) --no-print-directory firmware
	WSX_QEMU="$(FW_QEMU)" sh tests/run.sh $(FW_B)/bin cross
	@sh $(FW_DIR)/budget.sh $(FW_B)/bin

include tests/firmware/firmware.mk

FUZZ_SECONDS ?= 30
fuzz:
	@$(MAKE) --no-print-directory -C fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)

bench: lib
	@$(MAKE) --no-print-directory -C tests/bench

# Tools go to bin under names that say what they are.
TOOLS := wsx-cat:wsx-cat wsx-load:wsx-load echo_server:wsx-echo-server \
         echo_client:wsx-echo-client
HEADERS := $(notdir $(wildcard include/*.h))
install: lib $(foreach t,$(TOOLS),$(BUILD)/examples/$(firstword $(subst :, ,$(t))))
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/*.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libwsx.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libwsx.so.$(SOMAJOR)
	ln -sf libwsx.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libwsx.so
	printf '$(call pc_text,$(PREFIX))' > $(DESTDIR)$(PREFIX)/lib/pkgconfig/wsx.pc
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/wsx.pc
	for t in $(TOOLS); do \
	  install -m 755 $(BUILD)/examples/$${t%%:*} $(DESTDIR)$(PREFIX)/bin/$${t##*:} || exit 1; done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/include/,$(HEADERS))
	rm -f $(DESTDIR)$(PREFIX)/lib/libwsx.a $(DESTDIR)$(PREFIX)/lib/libwsx.so.$(VERSION) \
	  $(DESTDIR)$(PREFIX)/lib/libwsx.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libwsx.so \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/wsx.pc
	for t in $(TOOLS); do rm -f $(DESTDIR)$(PREFIX)/bin/$${t##*:}; done

clean:
	rm -rf build
