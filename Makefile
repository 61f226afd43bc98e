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
# pytest-xdist runs TEST_WORKERS processes (`make test TEST_WORKERS=0` for one),
# each given whole test files (--dist loadfile), so a module's server fixtures
# start once; every worker has its own session server, data directories,
# PostgreSQL database and NATS prefix (tests/conftest.py).
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadfile
test: lint
	$(BIN)/pytest -q $(XDIST)
	HUBBUB_TEST_BACKEND=postgres-nats $(BIN)/pytest -q $(XDIST) tests/integration

# Long reliability runs; regenerates docs/reliability.md from their figures. The
# 10^6-input fuzz (~45 min) runs beside the rest (~50 min with the 30-min soak).
reliability: $(VENV)/.installed
	rm -f .reliability*.jsonl .reliability-fuzz.log
	export HUBBUB_RELIABILITY_LONG=1; \
	HUBBUB_RELIABILITY_OUT=.reliability-fuzz.jsonl $(BIN)/pytest -q -s -p no:cacheprovider \
		tests/reliability/test_fuzz.py --timeout 10800 > .reliability-fuzz.log 2>&1 & fuzz=$$!; \
	HUBBUB_RELIABILITY_OUT=.reliability-rest.jsonl $(BIN)/pytest -q -s -p no:cacheprovider \
		tests/reliability --ignore=tests/reliability/test_fuzz.py --timeout 7200; rest=$$?; \
	wait $$fuzz; fuzzed=$$?; tail -3 .reliability-fuzz.log; \
	cat .reliability-rest.jsonl .reliability-fuzz.jsonl > .reliability.jsonl 2>/dev/null; \
	$(BIN)/python -m tests.reliability.report .reliability.jsonl docs/reliability.md; \
	test $$rest -eq 0 && test $$fuzzed -eq 0

# Every benchmark scenario against the bare peers (npm ci in bench/peers on first
# use); appends the tables to docs/performance.md. ~10-15 min on 2 cores.
bench: $(VENV)/.installed
	$(BIN)/python -m bench all --record

clean:
	rm -rf $(VENV) hubbub-data .pytest_cache .mypy_cache .ruff_cache
