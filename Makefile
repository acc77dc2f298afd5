# AgentScope. `make run` serves the app on SQLite; `make test` runs the suite; `make check` is CI.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 /root/.pyenv/versions/3.12.1/bin/python3.12 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test check install migrate demo lint format bench-ingest clean

$(BIN)/.installed: requirements.txt requirements-dev.txt sdk/pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12+ is required: make run PYTHON=/path/to/python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -e ./sdk
	touch $@

install: $(BIN)/.installed

migrate: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput

run: migrate
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# To the server `make run PORT=...` serves; AGENTSCOPE_BASE_URL, when set, wins.
demo: install
	AGENTSCOPE_BASE_URL=$${AGENTSCOPE_BASE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/python examples/research_agent.py --runs 12

bench-ingest: install
	$(BIN)/python bench/ingest.py

check:
	PYTHON=$(PYTHON) bash .ci/run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
