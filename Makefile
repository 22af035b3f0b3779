# OpenLFR developer entry points. `make demo` and `make test` bootstrap everything on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
export LFR_SHARED_DATA ?= $(abspath $(SHARED)/data)

.PHONY: setup demo test test-fast check lint typecheck fmt lock clean bench

# Idempotent: system packages are checked each time (cheap), the venv is rebuilt only when the
# dependency files change.
setup: $(VENV)/.setup-stamp
	@scripts/install-system-deps.sh

LOCKS := requirements/runtime.lock requirements/dev.lock

# Every package from the hashed locks (--require-hashes: each file checked), then the project itself without
# dependencies and without build isolation (setuptools and wheel are pinned in dev.lock).
$(VENV)/.setup-stamp: pyproject.toml $(LOCKS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes $(foreach lock,$(LOCKS),-r $(lock))
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

# The engine demo on still images, then the API and console with a ready demo (its own data in .demo/, rebuilt
# on every run; prints the URL and one-time passwords) until Ctrl-C.
demo: setup
	$(BIN)/lfr demo --data "$(LFR_SHARED_DATA)"
	$(BIN)/lfr demo --serve --data "$(LFR_SHARED_DATA)"

test: setup
	scripts/test

# The quick loop while editing (under a minute on the 2-core machine when it is quiet): no real models, no
# PostgreSQL, no browser, nothing marked slow. `make test` is the verdict.
test-fast: setup
	scripts/test-fast

check: setup
	scripts/check

bench: setup
	$(BIN)/lfr bench engine --json

# Re-pin every dependency (with hashes) after changing pyproject.toml; needs the registry. Keeps current pins
# where pyproject.toml allows them; LFR_LOCK_UPGRADE=1 make lock moves everything to the newest allowed.
lock:
	scripts/lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
