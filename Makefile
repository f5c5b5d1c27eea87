# Two commands, both from a fresh clone:
#   make demo   creates .venv, installs monitor, serves the bundled newsroom on 127.0.0.1 and ingests it
#   make test   creates or reuses .venv and runs the test suite
# Make is used because it is on every machine we target and gives each command its setup as a dependency.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: demo test test-heavy install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -m pip install --quiet -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import monitor, prefect, trafilatura, duckdb" 
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/monitor demo

# Tests are spread over one worker process per core, at most four (each worker runs its own Prefect test server);
# idle workers take tests from busy ones, so one file of slow tests does not hold the rest back. Tests marked
# heavy (minutes each: writers at once on Postgres) run in their own job, `make test-heavy`.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist worksteal -m "not heavy"

test-heavy: $(STAMP)
	$(BIN)/python -m pytest -q -m heavy

clean:
	rm -rf $(VENV) .pytest_cache warehouse/*.duckdb
