# Every target creates .venv and installs what it needs on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHECKED := src tests bench scripts

.PHONY: run test lint bench reliability clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/hubbub serve

lint: $(VENV)/.installed
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)
	$(BIN)/mypy src

# The integration suite runs twice: on embedded SQLite, then on PostgreSQL + NATS
# (skipped when they are unreachable, failed when HUBBUB_REQUIRE_SERVICES=1).
test: lint
	$(BIN)/pytest -q
	HUBBUB_TEST_BACKEND=postgres-nats $(BIN)/pytest -q tests/integration

# Long reliability runs; regenerates docs/reliability.md from their figures.
reliability: $(VENV)/.installed
	rm -f .reliability.jsonl
	HUBBUB_RELIABILITY_LONG=1 HUBBUB_RELIABILITY_OUT=.reliability.jsonl \
		$(BIN)/pytest -q -s tests/reliability -p no:cacheprovider --timeout 3600; \
	status=$$?; \
	$(BIN)/python -m tests.reliability.report .reliability.jsonl docs/reliability.md; \
	exit $$status

# Every benchmark scenario against the bare peers (npm ci in bench/peers on first
# use); appends the tables to docs/performance.md. ~10-15 min on 2 cores.
bench: $(VENV)/.installed
	$(BIN)/python -m bench all --record

clean:
	rm -rf $(VENV) hubbub-data .pytest_cache .mypy_cache .ruff_cache
