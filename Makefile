# One way to install, one way to test, one way to serve.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
TORCH_VERSION := 2.13.0
# Where the CPU-only torch comes from when this machine's pip configuration offers none (PyPI's Linux
# torch is the CUDA build: 15 nvidia-* and 3 cuda-* packages and triton). Development machines find
# torch-$(TORCH_VERSION)+cpu in their configured wheel directory and never ask this index.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
SERVE_STAMP := $(VENV)/.installed-serve
TEST_STAMP := $(VENV)/.installed-test

.PHONY: venv serve test lint typecheck openapi ts-types test-ts screenshots clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# make serve: what serving the default (k-mer) model needs, the `server` extra: no torch, CUDA or Modal.
$(SERVE_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[server]'
	touch $@

# make test: everything (Evo 2 on the CPU, Modal, pysam, the dev tools). torch first, from a CPU-only
# wheel, so nothing later pulls the CUDA build: the configured sources' +cpu wheel, else TORCH_INDEX.
$(TEST_STAMP): pyproject.toml constraints/cpu.txt | $(PY)
	$(PY) -m pip install --quiet "torch==$(TORCH_VERSION)+cpu" 2>/dev/null \
		|| $(PY) -m pip install --quiet --index-url $(TORCH_INDEX) "torch==$(TORCH_VERSION)"
	$(PY) -m pip install --quiet -c constraints/cpu.txt -e '.[server,vcf,dev,evo2,modal]'
	touch $@ $(SERVE_STAMP)

venv: $(TEST_STAMP)

# uvicorn with the options in Settings (timeouts, connection cap; no forwarded headers believed
# unless EVO2_SERVICE_TRUSTED_PROXIES names the proxy): service/api/server.py.
serve: $(SERVE_STAMP)
	$(PY) -m service.api.server --host $(HOST) --port $(PORT)

test: $(TEST_STAMP)
	$(PY) -m ruff check service clients tests bench scripts modal_deploy.py
	$(PY) -m ruff format --check service clients tests bench scripts modal_deploy.py
	$(PY) -m mypy service clients
	$(PY) -m pytest -q

lint: $(TEST_STAMP)
	$(PY) -m ruff check --fix service clients tests bench scripts modal_deploy.py
	$(PY) -m ruff format service clients tests bench scripts modal_deploy.py

typecheck: $(TEST_STAMP)
	$(PY) -m mypy service clients

# Regenerate openapi.json from the app (a test fails when it drifts).
openapi: $(SERVE_STAMP)
	$(PY) scripts/export_openapi.py > openapi.json

# TypeScript client: regenerate src/schema.d.ts from openapi.json; run its node tests (npm ci when
# node_modules is missing; schema drift check, tsc build) against a uvicorn server the test starts.
ts-types:
	cd clients/typescript && { test -d node_modules || npm ci --no-audit --no-fund; } && npm run types

test-ts: $(TEST_STAMP)
	$(PY) -m pytest -q tests/clients/test_typescript.py

# The browser tests (headless Chromium; `make test` runs them too), writing their screenshots of the
# page into docs/img/ for README.
screenshots: $(TEST_STAMP)
	EVO2_SCREENSHOTS=docs/img $(PY) -m pytest -q tests/browser

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
