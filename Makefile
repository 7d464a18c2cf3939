# claimflow: `make dev` runs the whole stack locally; `make test` runs the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: dev test install lint check clean

dev: install
	$(BIN)/claimflow dev

# With PYTEST_ARGS (a file, a -k expression…): one pytest with them. Without: the whole suite, the drills and
# end-to-end tests alongside the rest (tests/run-suite.sh).
test: install $(BIN)/promtool
ifeq ($(strip $(PYTEST_ARGS)),)
	bash tests/run-suite.sh $(BIN)/python
else
	$(BIN)/python -m pytest $(PYTEST_ARGS)
endif

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain workflows activities workers api services db sandbox
	$(BIN)/lint-imports

check: lint test

install: $(VENV)/.installed

# promtool checks deploy/'s alert rules in tests/deploy: Debian's, unpacked into the venv (apt; does nothing when
# promtool is on PATH already).
$(BIN)/promtool:
	bash deploy/install-promtool.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

clean:
	rm -rf $(VENV) .claimflow .pytest_cache .mypy_cache .ruff_cache
