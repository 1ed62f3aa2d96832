# One way to install, one way to test, one way to serve.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: venv serve test lint typecheck openapi ts-types test-ts screenshots clean

# The virtual environment is (re)built when pyproject.toml or the pins change.
$(STAMP): pyproject.toml constraints/cpu.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned to the CPU build, so nothing later pulls a CUDA build.
	$(PY) -m pip install --quiet -c constraints/cpu.txt torch==2.13.0
	$(PY) -m pip install --quiet -c constraints/cpu.txt -e '.[dev,evo2,modal]'
	touch $(STAMP)

venv: $(STAMP)

serve: $(STAMP)
	$(PY) -m uvicorn service.api.app:create_app_from_env --factory --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(PY) -m ruff check service clients tests bench scripts modal_deploy.py
	$(PY) -m ruff format --check service clients tests bench scripts modal_deploy.py
	$(PY) -m mypy service clients
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check --fix service clients tests bench scripts modal_deploy.py
	$(PY) -m ruff format service clients tests bench scripts modal_deploy.py

typecheck: $(STAMP)
	$(PY) -m mypy service clients

# Regenerate openapi.json from the app (a test fails when it drifts).
openapi: $(STAMP)
	$(PY) scripts/export_openapi.py > openapi.json

# TypeScript client: regenerate src/schema.d.ts from openapi.json; run its node tests (npm ci when
# node_modules is missing; schema drift check, tsc build) against a uvicorn server the test starts.
ts-types:
	cd clients/typescript && { test -d node_modules || npm ci --no-audit --no-fund; } && npm run types

test-ts: $(STAMP)
	$(PY) -m pytest -q tests/clients/test_typescript.py

# The browser tests (headless Chromium; `make test` runs them too), writing their screenshots of the
# page into docs/img/ for README.
screenshots: $(STAMP)
	EVO2_SCREENSHOTS=docs/img $(PY) -m pytest -q tests/browser

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
