# Lapor: `make run` to start it with demo data, `make test` to check everything. `make help` lists all.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
LAPOR := $(BIN)/lapor
STAMP := $(VENV)/.installed
# Front-end packages come from npm (package-lock.json); only what the portal serves is copied here,
# with the packages' licences. Generated, not committed: `make install` writes it.
VENDOR := src/lapor/portal/static/portal/vendor
ASSETS_STAMP := $(VENDOR)/VERSIONS.txt
CHROMIUM := /usr/bin/chromium
PYTEST_WORKERS ?= auto
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# `make run` and `make serve` listen on 127.0.0.1:$(PORT); `PORT=8001 make run` when 8000 is taken.
PORT ?= 8000
# Checked before anything starts, so a taken port is one clear line, not a worker left behind by a
# server that could not bind. (The old `trap 'kill 0'` on TERM signalled its own shell again and again
# until bash overflowed its stack: make then reported a "Segmentation fault".)
PORT_FREE = $(BIN)/python -c 'import socket, sys; socket.create_server(("127.0.0.1", int(sys.argv[1])))' '$(PORT)' 2>/dev/null \
  || { echo "Port $(PORT) on 127.0.0.1 is taken (or is not a port number): stop what uses it or choose another, e.g. PORT=8001 make $@" >&2; exit 1; }

.PHONY: help install assets browser run serve test lint typecheck migrations-check test-sqlite test-postgres bench bench-http lock messages clean

help: ## List every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml requirements/dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

$(ASSETS_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/images
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/htmx.org/LICENSE $(VENDOR)/htmx.org.LICENSE.txt
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map node_modules/leaflet/dist/leaflet.css $(VENDOR)/
	cp node_modules/leaflet/dist/images/*.png $(VENDOR)/images/
	cp node_modules/leaflet/LICENSE $(VENDOR)/leaflet.LICENSE.txt
	$(PYTHON) src/lapor/portal/basemap.py node_modules/world-atlas/countries-50m.json $(VENDOR)/basemap.json
	cp node_modules/world-atlas/LICENSE $(VENDOR)/world-atlas.LICENSE.txt
	@for package in htmx.org leaflet world-atlas; do \
	  node -p "p = require('./node_modules/$$package/package.json'); p.name + ' ' + p.version + ' (' + p.license + ')'" || exit 1; \
	done > $(ASSETS_STAMP).tmp && mv $(ASSETS_STAMP).tmp $(ASSETS_STAMP)

install: $(STAMP) $(ASSETS_STAMP) ## Create .venv and install Lapor with its `lapor` command (hash-checked lock) and the front-end packages

assets: $(ASSETS_STAMP) ## Install the npm packages (package-lock.json) and copy what the portal serves into its static vendor/ folder

browser: ## Install Debian's chromium for the browser tests when it is missing (apt-get)
	@test -x $(CHROMIUM) || { $(if $(filter 0,$(shell id -u)),,sudo )apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo )apt-get install -y -qq chromium; }
	@test -x $(CHROMIUM) && $(CHROMIUM) --version 2>/dev/null

run: install ## Set up the SQLite database with regions and demo data, then start the web server (PORT, default 8000) and a worker
	@$(PORT_FREE)
	@mkdir -p var
	DEBUG=$${DEBUG:-1} $(LAPOR) migrate --noinput --verbosity 0
	DEBUG=$${DEBUG:-1} $(LAPOR) regions load
	DEBUG=$${DEBUG:-1} $(LAPOR) demo load
	@DEBUG=$${DEBUG:-1} $(MAKE) --no-print-directory serve

serve: install ## Start the web server on http://127.0.0.1:8000 (or PORT) and a task worker (no set-up)
	@$(PORT_FREE)
	@export DEBUG=$${DEBUG:-1} SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)}; \
	  $(LAPOR) worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT; \
	  $(LAPOR) runserver 127.0.0.1:$(PORT)

lint: install ## ruff lint and format check, and the import contracts (the map of the house in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install ## mypy (strict, with django-stubs)
	$(BIN)/mypy src tests bench

migrations-check: install ## Fail when a model change has no migration
	DATABASE_URL= $(BIN)/python -m django makemigrations --check --dry-run --settings=tests.settings

test-sqlite: install ## The whole pytest suite on SQLite
	DATABASE_URL= $(BIN)/pytest -n $(PYTEST_WORKERS) -q

test-postgres: install ## The whole pytest suite on the PostgreSQL in DATABASE_URL
	@if [ -z "$$DATABASE_URL" ]; then echo "DATABASE_URL is not set: skipping the PostgreSQL pass."; \
	  else $(BIN)/pytest -n $(PYTEST_WORKERS) -q; fi

test: lint typecheck migrations-check test-sqlite test-postgres ## Lint, type check, migrations check, tests on SQLite and (with DATABASE_URL) PostgreSQL

# The benchmarks `make bench` runs; bench/profile_pages.py and bench/worker_cpu.py are tools to find where
# time goes (README: Benchmarks), run by hand.
BENCHMARKS := bench/regions.py bench/institutions.py bench/console_inbox.py bench/lifecycle.py bench/search.py bench/web.py
bench: install ## Benchmarks (PostgreSQL ones need DATABASE_URL); the HTTP one at 1,000 reports, short rounds
	@for script in $(BENCHMARKS); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The full HTTP run of the README: BENCH_HTTP_ARGS="--sizes 1000,1000000 --seconds 20 --rounds 3" make bench-http
BENCH_HTTP_ARGS ?=
bench-http: install ## The HTTP benchmark alone (needs DATABASE_URL; BENCH_HTTP_ARGS, e.g. --sizes 1000,1000000)
	$(BIN)/python bench/web.py $(BENCH_HTTP_ARGS)

lock: ## Regenerate the hash-checked requirements from pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra dev -o requirements/dev.txt pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras -o requirements/main.txt pyproject.toml

messages: install ## Extract and compile translations (needs GNU gettext)
	cd src/lapor && DEBUG=1 ../../$(LAPOR) makemessages --locale id --no-obsolete --no-location && DEBUG=1 ../../$(LAPOR) compilemessages --locale id

clean: ## Remove the virtual environment, the npm packages, the copied front-end files and local data (var/)
	rm -rf $(VENV) node_modules $(VENDOR) var
