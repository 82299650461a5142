# One virtual environment, built from nothing by the targets that need it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install test lint clean system-deps

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,amazon,emulator,celery]" -c constraints.txt
	touch $@

install: $(BIN)/.installed

# Debian packages: PostgreSQL and Redis (distributed e2e test), headless Chromium (browser tests) and a
# CJK font (emulator videos). apt-get runs only as root and only for what is missing.
system-deps:
	bash scripts/install_system_deps.sh

lint: install
	$(BIN)/ruff check airflow_provider_hailuo tests
	$(BIN)/mypy

test: lint system-deps
	$(BIN)/pytest -p no:cacheprovider

clean:
	rm -rf $(VENV) build *.egg-info

# The one-command demo (README, first line): venv, emulator, Airflow home under .demo/, the
# hailuo_daily_content DAG end to end, verified MP4s. scripts/demo.sh documents the options.
.PHONY: demo demo-clean
demo: system-deps
	bash scripts/demo.sh

demo-clean:
	rm -rf .demo
