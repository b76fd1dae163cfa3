# PromoStack: `make run` starts everything on embedded defaults, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# The suite runs in this many pytest processes (xdist); each makes its own databases, Prefect server
# and fakes, so they never share state. `make test PYTEST_WORKERS=0` runs it in one process.
PYTEST_WORKERS ?= 2

.PHONY: run test bench clean-var

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime
	@bash deployments/run_local.sh

test: $(VENV)/.dev
	@bash tests/ensure_browser.sh
	@set +e; $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; exit $$rc

bench: $(VENV)/.dev
	@for b in bench/*.py; do echo "== $$b"; PYTHONPATH=$(CURDIR) $(PY) $$b || exit 1; done

clean-var:
	rm -rf var/
