# Alliance: `make run` starts the bot, `make test` type-checks (mypy --strict) and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench install db-upgrade clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

db-upgrade: $(STAMP)
	$(BIN)/alliance-bot db upgrade

run: $(STAMP)
	$(BIN)/alliance-bot serve --or-sandbox $(ARGS)

# Two test processes (pytest-xdist): most of the suite's time is waiting (servers,
# kill -9, lock timeouts), so two halve it on two cores. TEST_WORKERS=0 runs one.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
