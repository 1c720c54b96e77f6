# Two commands a newcomer needs:
#   make run    install everything and start the service on the embedded defaults
#   make test   install what the tests need and run the whole suite

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NPM    ?= npm
# The GOV.UK Frontend files the dashboard serves (no CDN), pinned in frontend/package-lock.json.
ASSETS := frontend/node_modules/.installed

.PHONY: run test bench install install-test assets lint format clean

# The workflow sandbox imports the workflow modules afresh for every case it runs: compiled to bytecode
# here, once, rather than from source at each import (nothing else writes it where, as on this machine
# and in the image, PYTHONDONTWRITEBYTECODE is set). Only what changed is compiled again.
BYTECODE := $(BIN)/python -m compileall -q workflows safeguarding activities api worker.py

run: $(VENV)/.installed $(ASSETS)
	@$(BYTECODE)
	$(BIN)/python -m safeguarding run

# Two test processes: most tests wait on a Temporal server, a database or a clock, not on a core. Work
# stealing: a process that runs out takes tests from the other, so the long ones do not end the run alone.
test: $(VENV)/.installed-test $(ASSETS)
	@$(BYTECODE)
	$(BIN)/python -m pytest -n 2 --dist worksteal

# The project's figures beside bare Temporal's and their targets (README, "Performance").
bench: $(VENV)/.installed-test $(ASSETS)
	@$(BYTECODE)
	$(BIN)/python -m bench $(BENCH_ARGS)

install: $(VENV)/.installed $(ASSETS)
install-test: $(VENV)/.installed-test $(ASSETS)
assets: $(ASSETS)

$(ASSETS): frontend/package.json frontend/package-lock.json
	$(NPM) ci --prefix frontend --no-audit --no-fund
	touch $@

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.created
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.created
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(VENV)/.installed

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info frontend/node_modules
