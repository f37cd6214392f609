# Two commands do all set-up on a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make demo: migrate an SQLite database, load demo data, start the bot beside the LINE simulator
demo: $(STAMP)
	$(BIN)/sasaeai demo

## make test: the whole suite (PostgreSQL tests run when TEST_DATABASE_URL is set)
test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/suggestions.py

clean:
	rm -rf $(VENV) instance .pytest_cache
