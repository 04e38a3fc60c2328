# climb — set-up and everyday commands. `make demo` and `make test` work on a fresh machine
# that has only Python 3.11; both are idempotent and fast once installed.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# The install stamp changes whenever pyproject.toml changes, so edits re-install, nothing else does.
HASH   := $(shell cat pyproject.toml | sha1sum | cut -c1-12)
STAMP_RUN  := $(VENV)/.installed-run-$(HASH)
STAMP_TEST := $(VENV)/.installed-test-$(HASH)
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
PYTEST_ARGS ?=

.PHONY: install install-test test demo lint format docs clean help chromium

help:
	@echo "make demo     install (if needed) and run the main job on the built-in demo corpus"
	@echo "make test     install with test extras (if needed) and run the whole test suite"
	@echo "make lint     ruff check + format check + layer contracts (lint-imports)"
	@echo "make docs     regenerate docs/datasets.md from the dataset cards"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: Python 3.11+ not found (looked for python3.11, python3)"; exit 1; }
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "error: climb needs Python >= 3.11, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(STAMP_RUN): $(BIN)/python
	@echo "==> installing climb and its dependencies into $(VENV) (torch==2.14.1, torchvision==0.29.1)"
	$(PIP) install -e . 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
	$(PIP) install --no-deps braindecode==1.8.1 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
	$(BIN)/python -c "import climb, torch, torchvision; assert torch.__version__.startswith('2.14.1'), torch.__version__"
	@rm -f $(VENV)/.installed-run-*; touch $@

$(STAMP_TEST): $(STAMP_RUN)
	@echo "==> installing test extras"
	$(PIP) install -e '.[test]' 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
	$(BIN)/python -c "import pytest, ruff"
	@rm -f $(VENV)/.installed-test-*; touch $@

install: $(STAMP_RUN)

install-test: $(STAMP_TEST)

# The report test renders the HTML report in Debian's headless Chromium: install it when missing
# (as root with apt); when that is impossible the test is skipped with a clear reason.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "==> installing Debian's chromium (headless rendering test of the report)"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	      || echo "note: chromium could not be installed; the report rendering test will be skipped"; \
	  else \
	    echo "note: chromium is not installed and cannot be installed here; the report rendering test will be skipped"; \
	  fi; \
	fi

test: $(STAMP_TEST) chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP_RUN)
	$(BIN)/climb demo

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports --no-cache

format: $(STAMP_TEST)
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

docs: $(STAMP_RUN)
	$(BIN)/climb datasets docs --out docs/datasets.md

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
