# pim6sd build, install and test entry points. `make check` is the test
# command of the README and of CI (.ci/run).
PREFIX ?= /usr/local
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/pim6sd/pim6sd/internal/version.Version=$(VERSION)

# Where `make install` puts things (DESTDIR stages them elsewhere). The
# configuration and the unit's paths are not under PREFIX: the unit runs
# $(SBINDIR)/pim6sd --config $(SYSCONFDIR)/pim6sd/pim6sd.toml. systemd
# looks for units in /usr/local/lib/systemd/system and /usr/lib/systemd/system;
# for another PREFIX, set UNITDIR=/etc/systemd/system.
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc

.PHONY: all build deps test check check-vm check-kernels soak vet fmt bench fuzz clean install uninstall

all: build

build:
	mkdir -p bin
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/ ./cmd/...

# Tools the tests use as independent oracles (tshark, tcpdump) and that the
# namespace tests drive (iproute2). Needs root and Debian's package archive.
deps:
	./scripts/deps.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...

# Every test. On a kernel without IPv6 multicast routing the packages that
# need it run in a VM on Debian's kernel (scripts/test.sh says how).
test: vet
	./scripts/test.sh

# The README's test command: install what the tests need, then run them all.
check: deps test

# As check, but the kernel packages run in the VM even where the host has
# multicast routing.
check-vm: deps vet
	./scripts/test.sh --vm

# The kernel and end-to-end packages on each kernel of the matrix (Debian
# 12's, Debian 13's, and the host's own when it has multicast routing),
# then a table: kernel, passed, failed, time.
check-kernels: deps
	./scripts/kernels.sh

# The soak test alone with SOAK of churn, then its report
# (docs/RELIABILITY.md): make soak SOAK=1h. In the VM where the kernel lacks
# IPv6 multicast routing, as `make check`.
SOAK ?= 2m
soak:
	./scripts/soak.sh $(SOAK)

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./mld/mldmsg/ ./pim/pimmsg/ ./mld/ ./internal/timerq/

# A short run of every fuzz target (the seed corpora run in `make test`).
FUZZTIME ?= 20s
fuzz:
	./scripts/fuzz-all.sh $(FUZZTIME)

clean:
	rm -rf bin

# pim6sd and pim6stat in SBINDIR, the man pages, the systemd unit, and the
# example configuration as $(SYSCONFDIR)/pim6sd/pim6sd.toml.example; also as
# pim6sd.toml when there is none yet (an existing one is never touched).
install: build
	install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/pim6sd
	install -m 0755 bin/pim6sd bin/pim6stat $(DESTDIR)$(SBINDIR)/
	install -m 0644 man/pim6sd.8 man/pim6stat.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/pim6sd.toml.5 $(DESTDIR)$(MANDIR)/man5/
	sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' -e 's|/etc/pim6sd/|$(SYSCONFDIR)/pim6sd/|g' \
		dist/systemd/pim6sd.service > $(DESTDIR)$(UNITDIR)/pim6sd.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/pim6sd.service.tmp
	mv $(DESTDIR)$(UNITDIR)/pim6sd.service.tmp $(DESTDIR)$(UNITDIR)/pim6sd.service
	install -m 0644 etc/pim6sd.toml $(DESTDIR)$(SYSCONFDIR)/pim6sd/pim6sd.toml.example
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/pim6sd/pim6sd.toml ]; then \
		echo "install: kept the existing $(DESTDIR)$(SYSCONFDIR)/pim6sd/pim6sd.toml (the new example is pim6sd.toml.example)"; \
	else \
		echo "install -m 0644 etc/pim6sd.toml $(DESTDIR)$(SYSCONFDIR)/pim6sd/pim6sd.toml"; \
		install -m 0644 etc/pim6sd.toml $(DESTDIR)$(SYSCONFDIR)/pim6sd/pim6sd.toml; \
	fi
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then echo systemctl daemon-reload; systemctl daemon-reload; fi

# Removes what install put, except pim6sd.toml: the configuration is the
# user's (delete /etc/pim6sd yourself to remove it).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/pim6sd $(DESTDIR)$(SBINDIR)/pim6stat \
		$(DESTDIR)$(MANDIR)/man8/pim6sd.8 $(DESTDIR)$(MANDIR)/man8/pim6stat.8 \
		$(DESTDIR)$(MANDIR)/man5/pim6sd.toml.5 $(DESTDIR)$(UNITDIR)/pim6sd.service \
		$(DESTDIR)$(SYSCONFDIR)/pim6sd/pim6sd.toml.example
	@rmdir $(DESTDIR)$(SYSCONFDIR)/pim6sd 2>/dev/null || \
		echo "uninstall: kept $(DESTDIR)$(SYSCONFDIR)/pim6sd (your configuration)"
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then echo systemctl daemon-reload; systemctl daemon-reload; fi
