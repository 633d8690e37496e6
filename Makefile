# The README's two commands are `make demo` and `make test`; everything else is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test fuzz lint format audit bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Sambung needs Python 3.11 or newer; set PYTHON=...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: install
	$(BIN)/sambung demo

# The suite mostly waits (Jurnal's limits in a compressed minute, servers, a browser, one sync at
# the real 60 s minute), so it runs in worker processes, more of them than the two cores it
# was measured on. With `loadgroup` (see tests/conftest.py) one worker runs the browser tests and
# the rest go one at a time to whichever worker is free. PYTEST_WORKERS=0 runs it in this process.
PYTEST_WORKERS ?= 4

test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=15 $(PYTEST_ARGS)

# The property-based tests with fresh random examples (`make test` draws the same ones each run).
FUZZ_TESTS := tests/unit/test_mapping_exactness.py tests/unit/test_jurnal_arithmetic.py \
	tests/integration/test_fuzz_webhooks.py tests/integration/test_fuzz_openapi.py
fuzz: install
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(FUZZ_TESTS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Known vulnerabilities in the installed dependencies (pip-audit; see .ci/audit.py, SECURITY.md).
audit: install
	$(BIN)/python .ci/audit.py

# The full benchmarks (long); `sambung bench all --quick` takes a few minutes.
bench: install
	$(BIN)/sambung bench all --store postgres
	$(BIN)/sambung bench all

clean:
	rm -rf $(VENV) var
