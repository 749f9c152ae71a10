# Makefile-driven layout: every target calls `python -m pipeline <command>`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Documents extracted in parallel; empty = the usable cores.
JOBS   ?=
# The extraction store (pipeline/store.py). A store set with $PIPELINE_CACHE_DIR is
# used by the pipeline but never removed by `make clean`.
CACHE  := .cache/pipeline

.PHONY: setup extract train evaluate classify report test bench notebook clean help

help:
	@echo "make setup     create .venv, install everything, check the Stanza Swedish model"
	@echo "make extract   raw/ -> processed/ (documents, blocks, sentences, proposals)"
	@echo "make test      run the test suite"
	@echo "make train     train theme/level models from labels/ -> models/"
	@echo "make evaluate  nested grouped cross-validation -> reports/evaluation.md + PNGs"
	@echo "make report    processed/ -> reports/index.html, proposal_groups.csv, .parquet and .xlsx exports"
	@echo "make bench     benchmarks/ (needs ../shared/)"
	@echo "make notebook  open the reviewer notebooks in Jupyter Lab"
	@echo "make clean     remove generated files (processed/, reports/, models, the extraction store); never labels/"

setup: $(VENV)/.installed
	$(PY) -m pipeline models --download-if-missing

# torch first, pinned to the CPU build, so stanza does not pull a CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# extract labels proposals with the trained model and applies labels/corrections.csv over
# it; it trains only when no model exists (a saved correction shows at once, no retraining;
# retrain with `make train`).
extract: $(if $(wildcard models/metadata.json),,models/metadata.json)
	$(PY) -m pipeline extract $(if $(JOBS),--jobs $(JOBS))

models/metadata.json: $(wildcard labels/*.csv) pipeline/classify/codebook.yaml
	$(PY) -m pipeline train

# ARGS passes options on, e.g. `make train ARGS=--allow-orphans` (skip labels that
# cannot be placed on an extracted proposal; by default training stops, naming them).
train:
	$(PY) -m pipeline train $(ARGS)

evaluate:
	$(PY) -m pipeline evaluate $(ARGS)

# Reads processed/ (run `make extract` first) and, when present, models/metadata.json
# and reports/evaluation.md.
report:
	$(PY) -m pipeline report

test:
	$(PY) -m pytest -q --durations=15

bench:
	$(PY) benchmarks/ingest.py
	$(PY) benchmarks/segment.py
	$(PY) benchmarks/pipeline.py
	$(PY) benchmarks/proposals.py

notebook:
	$(VENV)/bin/jupyter lab notebooks/review_labels.ipynb

# Generated files only: labels/ (human input) is never touched.
clean:
	rm -rf processed/*.csv processed/*.parquet reports/ models/*.pkl models/*.json processed/*.xlsx $(CACHE)
