# SPDX-License-Identifier: Apache-2.0
# spoold build. `make` builds build/spoold; `make run` and `make check` are the README's
# two commands and install missing Debian packages first (scripts/deps.sh).

CC      ?= cc
BUILD   ?= build
PKGS    := libmicrohttpd jansson libssl libcrypto sqlite3 libpq libcurl gnutls avahi-client
# CFLAGS is the user's (optimisation, sanitizers); the project's own flags always apply.
CFLAGS  ?= -O2 -g
PROJECT_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -pthread \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(PROJECT_CFLAGS) $(CPPFLAGS) $(CFLAGS)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcups -pthread -lm

LIB_SRC := $(sort $(filter-out src/main.c,$(wildcard src/*.c src/*/*.c)))
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/console-assets.o
WEB_FILES := $(sort $(shell find web -type f ! -name '.*' 2>/dev/null))
TEST_SRC := $(sort $(wildcard tests/unit/*.c))
TEST_OBJ := $(TEST_SRC:tests/unit/%.c=$(BUILD)/test-obj/%.o)

PORT    ?= 8080
DATA    ?= ./var

# Installation (make install / uninstall): GNU directory variables; DESTDIR stages the tree.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(PREFIX)/etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
INSTALL    ?= install

.PHONY: all deps run check unit api ipp asan fuzz fuzz-build fuzz-smoke bench bench-smoke layering clean install uninstall

all: $(BUILD)/spoold

deps:
	@./scripts/deps.sh

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The console's files (web/) compiled into the binary.
$(BUILD)/gen/console-assets.c: scripts/embed-web.sh $(WEB_FILES)
	@mkdir -p $(dir $@)
	@echo "  EMBED   web/"
	@./scripts/embed-web.sh web $@

$(BUILD)/obj/gen/console-assets.o: $(BUILD)/gen/console-assets.c
	@mkdir -p $(dir $@)
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/test-obj/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -Wno-missing-field-initializers -MMD -MP -c -o $@ $<

$(BUILD)/libspoold.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/spoold: $(BUILD)/obj/main.o $(BUILD)/libspoold.a
	@echo "  LINK    $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit-tests: $(TEST_OBJ) $(BUILD)/libspoold.a
	@echo "  LINK    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/obj/main.d

# Starts spoold in the foreground on 127.0.0.1:$(PORT) with the SQLite store under $(DATA) and
# the development identity.
run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(DATA)
	@echo "spoold: console at http://127.0.0.1:$(PORT)/ (sign in with a development persona)"
	$(BUILD)/spoold serve --listen 127.0.0.1:$(PORT) --data $(DATA) --dev

# Every test suite: unit tests (plain and under ASan/UBSan), API tests with the real Graph
# clients, IPP tests with ipptool. The last line is "N passed, N failed".
check: deps
	@./scripts/check.sh

# Fails when an include crosses a layer the wrong way or the directories form a cycle
# (docs/development.md, "Layering").
layering:
	@./scripts/layering.sh

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan CC=gcc \
	  CFLAGS="-O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=undefined,float-cast-overflow" \
	  build-asan/spoold build-asan/unit-tests

# libFuzzer harnesses (fuzz/*.c, one per target; docs/development.md): the library is compiled
# again with clang and the fuzzer, ASan and UBSan instrumentation into build-fuzz/.
# `make fuzz` runs every harness for FUZZ_SECONDS (default 300) after replaying its corpus;
# `make fuzz-smoke` is the short run `make check` includes. FUZZ_TARGETS picks harnesses.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?= $(sort $(basename $(notdir $(wildcard fuzz/*.c))))
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=undefined

$(BUILD)/fuzz/%: fuzz/%.c fuzz/fuzz.h $(BUILD)/libspoold.a
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(BUILD)/libspoold.a $(LDLIBS)

-include $(wildcard $(BUILD)/fuzz/*.d)

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=$(FUZZ_CC) CFLAGS="$(FUZZ_CFLAGS)" \
	  $(FUZZ_TARGETS:%=build-fuzz/fuzz/%)

fuzz: deps fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) ./fuzz/run.sh $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-12} ./fuzz/run.sh $(FUZZ_TARGETS)

# Benchmarks against nginx, cupsd and dd (docs/benchmarks.md); bench-smoke is the short run
# that `make check` includes.
bench: deps all
	@SPOOLD_BIN=$(BUILD)/spoold ./bench/run.sh full

bench-smoke: all
	@SPOOLD_BIN=$(BUILD)/spoold ./bench/run.sh smoke

# Installs the binary, the man pages, the systemd units (spoold, spoold-proxy) and (unless they
# are there already) the commented default configurations (spoold.conf, proxy.conf). Never touches data.
install: $(BUILD)/spoold
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/spoold
	$(INSTALL) -m 0755 $(BUILD)/spoold $(DESTDIR)$(BINDIR)/spoold
	$(INSTALL) -m 0644 man/spoold.8 $(DESTDIR)$(MANDIR)/man8/spoold.8
	$(INSTALL) -m 0644 man/spoold.conf.5 $(DESTDIR)$(MANDIR)/man5/spoold.conf.5
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/spoold.service.in \
	  > $(DESTDIR)$(UNITDIR)/spoold.service
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/spoold-proxy.service.in \
	  > $(DESTDIR)$(UNITDIR)/spoold-proxy.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/spoold.service $(DESTDIR)$(UNITDIR)/spoold-proxy.service
	@for c in spoold.conf proxy.conf; do \
	  if [ -e $(DESTDIR)$(SYSCONFDIR)/spoold/$$c ]; then \
	    echo "keeping $(DESTDIR)$(SYSCONFDIR)/spoold/$$c"; \
	  else \
	    echo "$(INSTALL) -m 0644 dist/$$c $(DESTDIR)$(SYSCONFDIR)/spoold/$$c"; \
	    $(INSTALL) -m 0644 dist/$$c $(DESTDIR)$(SYSCONFDIR)/spoold/$$c; \
	  fi; \
	done

# Removes what install put there; the configuration only while it is the unchanged default.
# The data directory (/var/lib/spoold) is never removed.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/spoold $(DESTDIR)$(MANDIR)/man8/spoold.8 \
	  $(DESTDIR)$(MANDIR)/man5/spoold.conf.5 $(DESTDIR)$(UNITDIR)/spoold.service \
	  $(DESTDIR)$(UNITDIR)/spoold-proxy.service
	@for c in spoold.conf proxy.conf; do \
	  if cmp -s dist/$$c $(DESTDIR)$(SYSCONFDIR)/spoold/$$c; then \
	    echo "rm -f $(DESTDIR)$(SYSCONFDIR)/spoold/$$c"; \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/spoold/$$c; \
	  elif [ -e $(DESTDIR)$(SYSCONFDIR)/spoold/$$c ]; then \
	    echo "keeping the edited $(DESTDIR)$(SYSCONFDIR)/spoold/$$c"; \
	  fi; \
	done
	@rmdir $(DESTDIR)$(SYSCONFDIR)/spoold 2>/dev/null || true

clean:
	rm -rf build build-asan build-fuzz
