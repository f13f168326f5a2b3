# Sillage: `make run` and `make test` set up everything they need (venv, TimescaleDB, migrations).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.sillage-installed
DB := infra/db.sh

.PHONY: help venv run test lint typecheck importlint pytest db-up db-down db-status migrate clean \
	bench-ingest bench-partitions bench-pipeline bench-history bench-transit bench-coach bench-export bench-match bench-worker web \
	browser

help:
	@echo "make run      serve the API on http://127.0.0.1:8000 (SILLAGE_HOST / SILLAGE_PORT)"
	@echo "make test     lint, type-check, import contracts and the test suite"
	@echo "make db-up / db-down   start or stop the project-local TimescaleDB"
	@echo "make bench-ingest | bench-partitions | bench-pipeline | bench-history | bench-transit"
	@echo "     | bench-coach | bench-export | bench-match | bench-worker   benchmarks (figures and ratios)"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

db-up:
	@if [ -z "$$SILLAGE_DATABASE_URL" ]; then $(DB) up; else echo "using SILLAGE_DATABASE_URL"; fi

db-down:
	@$(DB) down

db-status:
	@$(DB) status

migrate: venv
	@$(DB) exec $(BIN)/sillage db migrate

# The dashboard's front-end assets (npm) and, for the browser tests, Debian's Chromium.
web:
	@if [ -x infra/build-web.sh ]; then infra/build-web.sh; fi

browser:
	@if [ -x infra/install-browser.sh ]; then infra/install-browser.sh; fi

run: venv migrate web
	@$(DB) exec $(BIN)/sillage serve

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

importlint: venv
	$(BIN)/lint-imports

pytest: venv web browser
	@$(DB) exec $(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck importlint pytest

# Benchmarks print figures and ratios against a baseline measured in the same run (not tests).
bench-ingest: venv
	@$(DB) exec $(BIN)/python -m bench.ingest

BENCH_STAMP := $(VENV)/.sillage-bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench-pipeline: $(BENCH_STAMP)
	$(BIN)/python -m bench.pipeline

bench-history: venv
	$(BIN)/python -m bench.history

bench-transit: venv
	$(BIN)/python -m bench.transit

bench-coach: venv
	@$(DB) exec $(BIN)/python -m bench.coach

bench-export: venv
	@$(DB) exec $(BIN)/python -m bench.export

bench-match: venv
	@$(DB) exec $(BIN)/python -m bench.match

bench-partitions: venv
	@$(DB) exec $(BIN)/python -m bench.partitions

bench-worker: venv
	@$(DB) exec $(BIN)/python -m bench.worker

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
