# The README's two commands: `make run` (the whole stack, locally) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
BIN := .venv/bin
STATE := $(or $(APPOINTMENTS_STATE_DIR),.state)
# mypy fails on a folder holding no Python file yet; check only those that hold some.
TYPED_DIRS = $(shell for d in services schemas cli web bench chaos tests; do \
	[ -n "$$(find $$d -name '*.py' -print -quit 2>/dev/null)" ] && echo $$d; done)

.PHONY: help bootstrap run down status logs lint unit integration browser test bench chaos

help:
	@echo "make run     start PostgreSQL, Kafka and every service; print URLs and tokens"
	@echo "make down    stop them"
	@echo "make status  which processes run, and whether each is healthy"
	@echo "make logs    follow every log of the local stack"
	@echo "make test    lint, type-check, unit tests, then integration and browser tests on real servers"
	@echo "make browser the pages in Chromium on real servers (tests/browser), screenshots in docs/screenshots"
	@echo "make lint    ruff and mypy only"
	@echo "make bench   the benchmark"
	@echo "make chaos   2,000 bookings while each part is killed in turn; then nothing lost or doubled"

bootstrap:
	@deploy/bootstrap.sh

run: bootstrap
	$(BIN)/appointments up

down: bootstrap
	$(BIN)/appointments down

status: bootstrap
	$(BIN)/appointments status

logs:
	tail -n 20 -F $(STATE)/logs/*.log

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict $(TYPED_DIRS)

unit: bootstrap
	$(BIN)/pytest tests/unit

integration: bootstrap
	$(BIN)/pytest tests/integration

browser: bootstrap
	$(BIN)/pytest tests/browser

# One recipe, so the steps keep their order even under `make -j`.
test: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict $(TYPED_DIRS)
	$(BIN)/pytest tests/unit
	$(BIN)/pytest tests/integration
	$(BIN)/pytest tests/browser

bench: bootstrap
	$(BIN)/python -m bench

chaos: bootstrap
	$(BIN)/python -m chaos
