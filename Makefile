# billingdesk: `make demo` on a fresh machine, `make test` to run the suite.
# Everything runs from the virtualenv in .venv, created and kept in step with pyproject.toml.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install: reinstall only when pyproject.toml is newer.
STAMP := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.installed-runtime
PORT ?= 8000

.PHONY: demo test check serve worker install clean

install: $(STAMP)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "billingdesk needs Python 3.11 or newer; '$(PYTHON)' is not. Run: make PYTHON=python3.11 <target>"; \
		exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP) $(RUNTIME_STAMP)

# The demo needs only the runtime dependencies: half the download of the dev tools.
$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/billingdesk demo --port $(PORT)

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src
	$(BIN)/lint-imports
	$(BIN)/billingdesk makemigrations --check --dry-run

serve: $(STAMP)
	$(BIN)/billingdesk migrate
	$(BIN)/billingdesk serve --port $(PORT)

worker: $(STAMP)
	$(BIN)/billingdesk worker

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache .grimp_cache .import_linter_cache
