# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-cli clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	scripts/fetch-web-assets
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/spacecommons demo

# The API tests also run against a throw-away PostgreSQL server (scripts/test-postgres installs
# and starts it; SPACECOMMONS_SKIP_PG=1 runs them on SQLite only); the dashboard test needs
# Debian's chromium (scripts/ensure-chromium installs it).
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	PYTHONPATH=src $(BIN)/lint-imports --no-cache
	@scripts/ensure-chromium
	@if [ -n "$$SPACECOMMONS_SKIP_PG" ]; then $(BIN)/pytest -q; else \
	  url=$$(scripts/test-postgres start) || exit 1; \
	  trap 'scripts/test-postgres stop' EXIT; \
	  SPACECOMMONS_TEST_PG_URL=$$url $(BIN)/pytest -q; fi

bench: $(STAMP)
	$(BIN)/python benchmarks/screen_catalog.py

bench-cli: $(STAMP)
	$(BIN)/python benchmarks/cli_startup.py

clean:
	rm -rf $(VENV) build *.egg-info
