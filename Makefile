# ПОС: `make run` starts the platform on embedded defaults, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM ?= /usr/bin/chromium
export POS_INSTANCE_DIR ?= $(CURDIR)/instance
# `make run`'s SECRET_KEY: random, made once and kept in the instance folder (pos/config.py reads it).
DEV_SECRET := $(POS_INSTANCE_DIR)/secret_key

.PHONY: install run test test-unit test-e2e bench chromium clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Нужен Python 3.11 или новее"; exit 1; }
	$(PYTHON) -m venv $(VENV) 2>/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-venv && rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

chromium:
	@[ -x $(CHROMIUM) ] || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

# The devserver migrates the database, loads the demo data once, then serves (see pos/devserver.py).
run: install
	@mkdir -p $(POS_INSTANCE_DIR)
	@[ -s $(DEV_SECRET) ] || (umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_hex(32))' > $(DEV_SECRET))
	$(BIN)/python -m pos.devserver

# The suite in parallel (pytest-xdist): one process per core unless TEST_WORKERS says otherwise.
TEST_WORKERS ?= auto

test: install chromium
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

test-unit: install
	$(BIN)/python -m pytest tests

test-e2e: install chromium
	$(BIN)/python -m pytest e2e

# The deadline sweep, then the monthly rating and the analytics pages (served by gunicorn) at BENCH_MESSAGES
# generated messages (bench/generate.py), then the Open311 intake (POSTs from 8 threads into a small database).
BENCH_MESSAGES ?= 1000000

bench: install
	$(BIN)/python -m bench
	$(BIN)/python -m bench rating --messages $(BENCH_MESSAGES)
	$(BIN)/python -m bench pages --messages $(BENCH_MESSAGES)
	$(BIN)/python -m bench intake

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
