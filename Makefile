# cxcrm: `make run` sets up and starts everything on the embedded defaults;
# `make test` sets up and runs the whole test suite. See README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Links in emails follow the port `make run` serves on unless SITE_URL is set. Exported for the
# whole recipe: honcho gives each process type its own PORT (web 8000, worker 8100, ...).
RUN_SITE_URL := $(or $(SITE_URL),http://127.0.0.1:$(PORT))
# The integration tests' servers (override to point elsewhere).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cxcrm
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install install-dev run test lint fmt unit integration clean bench-deps messages

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/activate
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/activate
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

# Compiled translation catalogues are build output (not committed): made from locale/*.po.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))
locale/%.mo: locale/%.po
	msgfmt --check -o $@ $<

# After changing a translatable string: update the catalogues, translate, commit the .po files.
messages: install-dev
	$(PY) manage.py catalogues

install: $(VENV)/.installed $(MO_FILES)
install-dev: $(VENV)/.installed-dev $(MO_FILES)

run: export SITE_URL = $(RUN_SITE_URL)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	@echo
	@echo "cxcrm is starting: open http://127.0.0.1:$(PORT)/admin/ (links in emails: $(SITE_URL))"
	@$(PY) manage.py ensure_superuser
	@echo "(web, worker and beat run in the foreground; Ctrl-C stops them)"
	@echo
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start --port $(PORT)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Unit tests share nothing but the CPU (each xdist worker has its own SQLite test database).
unit: install-dev
	$(PY) -m pytest -n auto -m "not integration and not browser"

integration: install-dev
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_REDIS_URL) \
		$(PY) -m pytest -m "integration or browser or postgres"

test: lint
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory integration

clean:
	rm -rf $(VENV) var

# Debian packages the benchmarks need (bench/README.md), installed only when missing.
bench-deps:
	@command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
