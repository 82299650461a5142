# One virtual environment, built from nothing by the targets that need it.
PYTHON ?= python3
VENV ?= .venv
AIRFLOW_VERSION ?= 3.3.2
BIN := $(VENV)/bin

.PHONY: install test lint clean

$(BIN)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,amazon,emulator]" -c constraints.txt
	touch $@

install: $(BIN)/.installed

lint: install
	$(BIN)/ruff check airflow_provider_hailuo tests
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -p no:cacheprovider

clean:
	rm -rf $(VENV) build *.egg-info
