# The two commands of the README: `make serve` and `make test`. Both create the virtualenv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test lint bench

$(BIN)/retail: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

serve: $(BIN)/retail
	$(BIN)/retail serve --demo

test: $(BIN)/retail lint
	$(BIN)/pytest

lint: $(BIN)/retail
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

bench: $(BIN)/retail
	$(BIN)/python bench/nearest.py
	$(BIN)/python bench/lookup.py
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/feed.py
	$(BIN)/python bench/orders.py
	$(BIN)/python bench/desk_events.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/http_endpoints.py --embedded
