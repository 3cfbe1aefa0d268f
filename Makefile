# The two commands a newcomer needs:  make run   and   make test
# Both create a virtual environment in .venv and install the project into it first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install run test lint bench clean

$(BIN)/qc-service: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/qc-service

## run: install, build the demo project (SQLite in ./data) and serve it on :$(PORT)
## with a development admin token (the README's curl examples use it)
run: export QC_ADMIN_TOKEN ?= dev-admin-token
run: install
	$(BIN)/qc-service demo
	$(BIN)/qc-service serve --port $(PORT)

## test: install, lint, then the whole suite on SQLite and PostgreSQL
test: install lint
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check qc_service tests bench

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
