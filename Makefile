# kr-uvshim: top-level targets. On a fresh machine: `make demo`, `make test`.
#
# Recipes run their steps in order inside one target, so `make -jN` is safe.
# Cargo is limited to CARGO_JOBS parallel jobs (default 2: a 2-core machine).

CARGO      ?= cargo
CARGO_JOBS ?= 2
CARGO_FLAGS = --release -j $(CARGO_JOBS)

# rustup installs cargo in ~/.cargo/bin, which a non-login shell may not have.
CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin
ifneq ($(wildcard $(CARGO_BIN)/cargo),)
export PATH := $(CARGO_BIN):$(PATH)
endif

.PHONY: all bootstrap build demo test check-examples bench header clean

all: build

bootstrap:
	@bash scripts/bootstrap.sh

build:
	$(CARGO) build $(CARGO_FLAGS)

demo:
	@bash scripts/bootstrap.sh
	$(CARGO) build $(CARGO_FLAGS)
	$(MAKE) -C examples run

# scripts/test.sh: cargo test (includes the header-staleness test), then the
# C suites (c-tests/, c-tests/shutdown/, c-tests/asis/), each linking the
# release archive exactly as the README says, plainly and under valgrind,
# then the demo; its last line is the total.
test:
	@bash scripts/bootstrap.sh
	@bash scripts/test.sh

# The demo must keep working: build it and run it, plainly and under valgrind.
check-examples:
	$(MAKE) -C examples run
	valgrind -q --error-exitcode=9 examples/build/host >/dev/null

bench:
	@bash scripts/bootstrap.sh
	$(CARGO) build $(CARGO_FLAGS)
	$(MAKE) -C bench run

# Regenerate include/kr_uvshim.h from the Rust sources (cbindgen).
header:
	KR_UVSHIM_WRITE_HEADER=1 $(CARGO) build $(CARGO_FLAGS)

clean:
	$(CARGO) clean
	$(MAKE) -C examples clean
	@for d in c-tests c-tests/shutdown c-tests/asis bench; do \
		if [ -f $$d/Makefile ]; then $(MAKE) -C $$d clean || exit 1; fi; \
	done
