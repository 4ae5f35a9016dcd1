# pim6sd build, install and test entry points. `make check` is the test
# command of the README and of CI (.ci/run).
PREFIX ?= /usr/local
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/pim6sd/pim6sd/internal/version.Version=$(VERSION)

.PHONY: all build deps test check vet fmt bench fuzz clean

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

test: vet
	$(GO) test -count=1 ./...

# The README's test command: install what the tests need, then run them all.
check: deps test

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./mld/mldmsg/ ./pim/pimmsg/ ./mld/ ./internal/timerq/

# A short run of every fuzz target (the seed corpora run in `make test`).
FUZZTIME ?= 20s
fuzz:
	./scripts/fuzz-all.sh $(FUZZTIME)

clean:
	rm -rf bin
