# Set-up is part of every target: a local virtualenv (.venv) is created or refreshed from the pinned lock file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install demo test bench lock clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)  ## create/refresh .venv with hub and its pinned dependencies

demo: $(STAMP)     ## the whole loop, offline, against the built-in sandbox
	$(BIN)/hub demo

test: $(STAMP)     ## the test suite (loopback only)
	scripts/ensure-browser.sh
	scripts/ensure-postgres.sh
	$(BIN)/python -m pytest -q -n 2 $(PYTEST_ARGS)

bench: $(STAMP)    ## benchmarks that print figures (a few minutes; push is paced by the emulated rate limit)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/identity.py
	$(BIN)/python benchmarks/push.py
	$(BIN)/python benchmarks/webhooks.py

lock:              ## re-pin requirements.lock from the current .venv (after changing pyproject.toml)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v -E '^(hub|pyinstrument|py-spy)==' > requirements.lock

clean:
	rm -rf $(VENV) hub-demo .pytest_cache
