# GoLive: one non-recursive Makefile. Objects go to build/<flavour>/ (release or asan).
# `make run` and `make test` first install missing Debian packages (tools/install-deps.sh).

PKGS := fcgi libwebsockets libcjson yaml-0.1 libjwt sqlite3

ifeq ($(SANITIZE),1)
FLAVOUR := asan
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g
else
FLAVOUR := release
SAN_FLAGS := -O2 -g
endif

BUILD := build/$(FLAVOUR)
CC ?= cc
WARN := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wformat=2 -Wvla -Wconversion
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lnng -lev -lpthread -lm
FINAL_CFLAGS = $(WARN) $(SAN_FLAGS) $(PKG_CFLAGS) -I. $(CPPFLAGS) $(CFLAGS)
FINAL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)

SHARED_SRC := $(wildcard shared/*.c)
PUSHD_SRC := $(wildcard pushd/*.c)
API_SRC := $(wildcard fcgi-api/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

SHARED_OBJ := $(SHARED_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/schema_sql.o
PUSHD_OBJ := $(PUSHD_SRC:%.c=$(BUILD)/%.o)
API_OBJ := $(API_SRC:%.c=$(BUILD)/%.o)
LIBGOLIVE := $(BUILD)/libgolive.a

PUSHD_BIN := $(BUILD)/golive-pushd
TOKEN_BIN := $(BUILD)/golive-token
API_BIN := $(if $(API_SRC),$(BUILD)/golive-api)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BINS := $(PUSHD_BIN) $(TOKEN_BIN) $(API_BIN)
# The benchmark load generator (tests/bench/), built with the rest so that it keeps compiling;
# only `make bench` runs it.
LOADGEN_SRC := $(wildcard tests/bench/loadgen/*.c)
LOADGEN_OBJ := $(LOADGEN_SRC:%.c=$(BUILD)/%.o)
LOADGEN_BIN := $(BUILD)/golive-loadgen
# The chat-mode checks' cost on one message (tests/bench/checks/), run by hand.
CHECKS_BENCH_BIN := $(BUILD)/golive-bench-checks
FLOOR_BENCH_BIN := $(BUILD)/golive-bench-floor

PYTHON := /usr/bin/python3
# Folders whose files may not form a cycle, by includes or by calls (docs/architecture.md).
ONE_WAY_DIRS := shared pushd fcgi-api
PYTEST_ARGS ?=

.PHONY: all deps run test test-unit test-integration asan format format-check clean db bench \
        install uninstall openapi deb run-cluster

all: $(BINS) $(LOADGEN_BIN) $(CHECKS_BENCH_BIN) $(FLOOR_BENCH_BIN)

deps:
	@tools/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_CFLAGS) -MMD -MP -c $< -o $@

# schema.sql is embedded so that either binary can create a new database by itself.
$(BUILD)/gen/schema_sql.c: schema.sql tools/embed-sql.sh
	@mkdir -p $(dir $@)
	tools/embed-sql.sh gl_schema_sql < schema.sql > $@

$(BUILD)/gen/schema_sql.o: $(BUILD)/gen/schema_sql.c
	$(CC) $(FINAL_CFLAGS) -c $< -o $@

# The version string lives in one object, rebuilt when VERSION changes.
VERSION := $(shell cat VERSION)
$(BUILD)/shared/version.o: VERSION
$(BUILD)/shared/version.o: FINAL_CFLAGS += -DGL_VERSION='"$(VERSION)"'

$(LIBGOLIVE): $(SHARED_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# Only pushd speaks NATS (the cluster, pushd/cluster.c).
NATS_LIBS = $(shell pkg-config --libs libnats 2>/dev/null || echo -lnats)
$(PUSHD_BIN): $(PUSHD_OBJ) $(LIBGOLIVE)
	$(CC) $(FINAL_LDFLAGS) -o $@ $(PUSHD_OBJ) $(LIBGOLIVE) $(PKG_LIBS) $(NATS_LIBS)

$(BUILD)/golive-api: $(API_OBJ) $(LIBGOLIVE)
	$(CC) $(FINAL_LDFLAGS) -o $@ $(API_OBJ) $(LIBGOLIVE) $(PKG_LIBS)

$(TOKEN_BIN): $(BUILD)/tools/golive-token.o $(LIBGOLIVE)
	$(CC) $(FINAL_LDFLAGS) -o $@ $< $(LIBGOLIVE) $(PKG_LIBS)

$(LOADGEN_BIN): $(LOADGEN_OBJ) $(LIBGOLIVE)
	$(CC) $(FINAL_LDFLAGS) -o $@ $(LOADGEN_OBJ) $(LIBGOLIVE) $(PKG_LIBS)

# The send() floor of a fan-out (make bench): no library, nothing but sockets.
$(FLOOR_BENCH_BIN): $(BUILD)/tests/bench/floor/bench_floor.o
	$(CC) $(FINAL_LDFLAGS) -o $@ $<

$(CHECKS_BENCH_BIN): $(BUILD)/tests/bench/checks/bench_checks.o $(LIBGOLIVE)
	$(CC) $(FINAL_LDFLAGS) -o $@ $< $(LIBGOLIVE) $(PKG_LIBS)

# GoLive beside nchan and Pushpin (tests/bench/README.md): ~25 minutes with REPEAT=2. Each run
# writes build/bench/results-<time>.jsonl; the table of docs/benchmarks.md is printed from it.
BENCH_OUT ?= build/bench/results-$(BENCH_STAMP).jsonl
BENCH_STAMP := $(shell date +%Y%m%d-%H%M%S)
bench: all
	@tools/install-deps.sh bench
	GOLIVE_BUILD=$(BUILD) $(PYTHON) tests/bench/bench.py --out $(BENCH_OUT) $(BENCH_ARGS)
	$(PYTHON) tests/bench/bench_report.py $(BENCH_OUT)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIBGOLIVE)
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_LDFLAGS) -o $@ $< $(LIBGOLIVE) $(PKG_LIBS) -lcmocka

# pushd's pieces, tested on their own: the frame scanner (pure), and the channel table with
# its connections (strdup wrapped, to make it run out of memory on purpose).
$(BUILD)/tests/test_wsscan: $(BUILD)/tests/unit/test_wsscan.o $(BUILD)/pushd/wsscan.o
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_LDFLAGS) -o $@ $^ -lcmocka

$(BUILD)/tests/test_busmsg: $(BUILD)/tests/unit/test_busmsg.o $(BUILD)/pushd/busmsg.o $(LIBGOLIVE)
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

STORE_TEST_OBJ := $(addprefix $(BUILD)/pushd/,store_wire.o store_answer.o)
$(BUILD)/tests/test_store: $(BUILD)/tests/unit/test_store.o $(STORE_TEST_OBJ) $(LIBGOLIVE)
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

CHANNEL_TEST_OBJ := $(addprefix $(BUILD)/pushd/,channel.o conn.o frame.o user.o)
$(BUILD)/tests/test_channel: $(BUILD)/tests/unit/test_channel.o $(CHANNEL_TEST_OBJ) $(LIBGOLIVE)
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_LDFLAGS) -Wl,--wrap=strdup -o $@ $< $(CHANNEL_TEST_OBJ) $(LIBGOLIVE) \
	    $(PKG_LIBS) -lcmocka

# The database is created from schema.sql when missing (golive-pushd also migrates on start).
db: deps
	@tools/init-db.sh

run: deps all
	@tools/run-stack.sh $(BUILD)

# Three nats-servers in one NATS cluster, three pushd nodes on one database, nginx balancing
# /api/ws over them (docs/cluster.md).
run-cluster: deps all
	@GOLIVE_CLUSTER_NODES=3 tools/run-stack.sh $(BUILD)

test: deps
	@$(MAKE) --no-print-directory test-unit test-integration

test-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done
	@$(PYTHON) -m pytest -q -p no:cacheprovider tests/tools
	@$(PYTHON) tools/check-cycles.py $(ONE_WAY_DIRS)
	@node --test tests/js/*.test.mjs

test-integration: all
	GOLIVE_BUILD=$(BUILD) $(PYTHON) -m pytest -q tests/integration $(PYTEST_ARGS)

asan:
	@$(MAKE) --no-print-directory test SANITIZE=1

# The REST API's description as JSON for the browser (committed; tests/tools checks it is current).
openapi:
	$(PYTHON) tools/openapi-json.py docs/openapi.yaml web/openapi.json

FORMAT_FILES = $(wildcard shared/*.[ch] pushd/*.[ch] fcgi-api/*.[ch] tools/*.c tests/unit/*.c \
                 tests/fuzz/*.[ch] tests/bench/loadgen/*.[ch] tests/bench/checks/*.c \
                 tests/bench/floor/*.c)

# `make install PREFIX=/usr/local DESTDIR=...`: the binaries, the schema, the web app, example
# configs, units, man pages and docs. The units in conf/systemd/ name /usr/local; the installed
# ones name PREFIX. /etc/golive/realtime.yaml is installed only when there is none.
# SYSTEMDUNITDIR: where the units go (the Debian package sets /lib/systemd/system).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BINDIR = $(DESTDIR)$(PREFIX)/bin
DATADIR = $(DESTDIR)$(PREFIX)/share/golive
DOCDIR = $(DESTDIR)$(PREFIX)/share/doc/golive
MANDIR = $(DESTDIR)$(PREFIX)/share/man
UNITDIR = $(DESTDIR)$(SYSTEMDUNITDIR)
INSTALLED_BINS = golive-pushd golive-api golive-token
MAN_PAGES = $(wildcard man/*.[158])
WEB_FILES = $(shell find web -type f)
CONF_FILES = $(wildcard conf/*.yaml conf/nginx/* conf/lighttpd/* conf/apache/* conf/grafana/*)

install: $(BINS)
	install -d $(BINDIR) $(DATADIR) $(DOCDIR)/docs $(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/golive
	install -m 0755 $(addprefix $(BUILD)/,$(INSTALLED_BINS)) $(BINDIR)/
	install -m 0644 schema.sql $(DATADIR)/
	for f in $(WEB_FILES) $(CONF_FILES); do install -D -m 0644 $$f $(DATADIR)/$$f; done
	for u in conf/systemd/*; do \
	    sed 's|/usr/local/|$(PREFIX)/|g' $$u > $(UNITDIR)/$${u##*/} && chmod 0644 $(UNITDIR)/$${u##*/}; \
	done
	install -m 0644 README.md $(DOCDIR)/
	install -m 0644 docs/*.md docs/openapi.yaml $(DOCDIR)/docs/
	install -d $(DOCDIR)/docs/screenshots
	install -m 0644 docs/screenshots/*.png $(DOCDIR)/docs/screenshots/
	for m in $(MAN_PAGES); do s=$${m##*.}; install -D -m 0644 $$m $(MANDIR)/man$$s/$${m##*/}; done
	test -e $(DESTDIR)$(SYSCONFDIR)/golive/realtime.yaml || \
	    install -m 0640 conf/realtime.yaml $(DESTDIR)$(SYSCONFDIR)/golive/realtime.yaml
	@echo "install: done under $(DESTDIR)$(PREFIX) (config in $(DESTDIR)$(SYSCONFDIR)/golive)"

uninstall:
	rm -f $(addprefix $(BINDIR)/,$(INSTALLED_BINS))
	rm -f $(addprefix $(UNITDIR)/,$(notdir $(wildcard conf/systemd/*)))
	for m in $(MAN_PAGES); do s=$${m##*.}; rm -f $(MANDIR)/man$$s/$${m##*/}; done
	rm -rf $(DATADIR) $(DOCDIR)
	@echo "uninstall: done ($(DESTDIR)$(SYSCONFDIR)/golive is kept)"

# `make deb`: the Debian package (debian/), built by dpkg-buildpackage from a copy of the files
# git knows (tracked, and new ones not ignored) in build/deb/golive-VERSION/, as dpkg-buildpackage
# writes the .deb beside the tree it builds; then lintian on it. Rebuilt when a file changed.
DEB_VERSION = $(shell sed -n '1{s/^.*(//;s/).*//;p;}' debian/changelog 2>/dev/null)
DEB_ARCH = $(shell dpkg --print-architecture 2>/dev/null)
DEB_FILE = build/deb/golive_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_CHANGES = build/deb/golive_$(DEB_VERSION)_$(DEB_ARCH).changes
DEB_SOURCES := $(shell git ls-files --cached --others --exclude-standard 2>/dev/null)
DEB_JOBS ?= 2

deb: $(DEB_FILE)
	lintian -I $(DEB_CHANGES)
	@echo "deb: $(CURDIR)/$(DEB_FILE)"

$(DEB_FILE): $(wildcard $(DEB_SOURCES))
	rm -rf build/deb && mkdir -p build/deb/golive-$(VERSION)
	git ls-files -z --cached --others --exclude-standard | \
	    xargs -0 sh -c 'for f; do [ ! -e "$$f" ] || printf "%s\0" "$$f"; done' sh | \
	    tar --null -T - -cf - | tar -C build/deb/golive-$(VERSION) -xf -
	cd build/deb/golive-$(VERSION) && \
	    DEB_BUILD_OPTIONS="parallel=$(DEB_JOBS) nocheck $(DEB_BUILD_OPTIONS)" \
	    dpkg-buildpackage -us -uc -b

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build

# Unit-test objects are intermediates of their binaries; keep them so make does not rebuild.
.SECONDARY: $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.o)

-include $(SHARED_OBJ:.o=.d) $(PUSHD_OBJ:.o=.d) $(API_OBJ:.o=.d)
-include $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.d) $(BUILD)/tools/golive-token.d
-include $(LOADGEN_OBJ:.o=.d) $(BUILD)/tests/bench/checks/bench_checks.d \
         $(BUILD)/tests/bench/floor/bench_floor.d

# libFuzzer targets (clang): `make fuzz` builds build/fuzz/fuzz_* from tests/fuzz/fuzz_*.c with
# shared/*.c compiled under the fuzz flags, then runs each for FUZZ_SECONDS on its seed corpus in
# tests/fuzz/corpus/<target>/. New inputs go to build/fuzz/corpus/<target>/, crashes to build/fuzz/.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR := build/fuzz
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -I. $(PKG_CFLAGS)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_OBJ := $(SHARED_SRC:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/gen/schema_sql.o

$(FUZZ_DIR)/gen/schema_sql.c: schema.sql tools/embed-sql.sh
	@mkdir -p $(dir $@)
	tools/embed-sql.sh gl_schema_sql < schema.sql > $@

$(FUZZ_DIR)/obj/gen/schema_sql.o: $(FUZZ_DIR)/gen/schema_sql.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -c $< -o $@

$(FUZZ_DIR)/obj/shared/%.o: shared/%.c $(wildcard shared/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -c $< -o $@

$(FUZZ_DIR)/obj/pushd/%.o: pushd/%.c $(wildcard pushd/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_OBJ) $(PKG_LIBS)

$(FUZZ_DIR)/fuzz_wsscan: tests/fuzz/fuzz_wsscan.c tests/fuzz/fuzz.h $(FUZZ_DIR)/obj/pushd/wsscan.o
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_DIR)/obj/pushd/wsscan.o

$(FUZZ_DIR)/fuzz_busmsg: tests/fuzz/fuzz_busmsg.c tests/fuzz/fuzz.h $(FUZZ_DIR)/obj/pushd/busmsg.o $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_DIR)/obj/pushd/busmsg.o $(FUZZ_OBJ) $(PKG_LIBS)

FUZZ_STORE_OBJ := $(FUZZ_DIR)/obj/pushd/store_answer.o $(FUZZ_DIR)/obj/pushd/store_wire.o
$(FUZZ_DIR)/fuzz_store: tests/fuzz/fuzz_store.c tests/fuzz/fuzz.h $(FUZZ_STORE_OBJ) $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_STORE_OBJ) $(FUZZ_OBJ) $(PKG_LIBS)

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    echo "== $$t ($(FUZZ_SECONDS) s)"; \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t; \
	    $(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/$$t- $(FUZZ_DIR)/corpus/$$t tests/fuzz/corpus/$$t; \
	done

# Keep the fuzz objects between runs (make would delete them as intermediates).
.SECONDARY: $(FUZZ_OBJ) $(FUZZ_DIR)/gen/schema_sql.c $(FUZZ_DIR)/obj/pushd/wsscan.o \
            $(FUZZ_DIR)/obj/pushd/busmsg.o $(FUZZ_STORE_OBJ)
.PHONY: fuzz
