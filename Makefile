# Two commands on a fresh machine: `make run` (the product) and `make test` (the suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test test-unit lint format bench clean

$(STAMP): setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	@bash scripts/ensure_services.sh redis
	$(BIN)/python scripts/run_local.py

test: $(STAMP)
	@bash scripts/ensure_services.sh redis postgres rabbitmq node chromium promtool sshd
	PYTHON=$(BIN)/python bash scripts/run_tests.sh $(PYTEST_ARGS)

# The unit tests alone need no service: no Redis, PostgreSQL or broker is started or reached.
test-unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests/unit $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache
