# Everything a fresh machine needs comes from here: only python3 (3.11+) and make are assumed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-later lint build check clean bench pages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/feeder run --config config.toml

build: $(STAMP)
	$(BIN)/feeder build --config config.toml

lint: $(STAMP)
	$(BIN)/ruff check feeder tests
	$(BIN)/mypy feeder

test: lint
	$(BIN)/pytest

# The whole suite again at a distant date (every Python process it starts included): CI runs
# this too, so a test that depends on today fails now.
LATER ?= 2028-06-01T09:00:00+07:00
test-later: $(STAMP)
	FEEDER_TEST_DATE=$(LATER) $(BIN)/pytest -p no:cacheprovider

# How the parser reads the real pages of tests/pages/, per office and field, with every miss.
pages: $(STAMP)
	$(BIN)/python -m tests.support

# Benchmarks (issue #8; the peers section, issue #18, installs Hugo when it can): 5-10 minutes
# on 2 cores; BENCH_ARGS=--quick for a short smoke run.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) state rejected examples/rejected .pytest_cache .mypy_cache .ruff_cache
	find feeds -mindepth 1 ! -name .gitkeep -delete
