# kneedata: two commands for a fresh clone (see README.md)
#   make demo  - set up, import sample_data/, derive, model, plot, write the report
#   make test  - set up, lint (ruff), type-check (mypy), run every test and notebook
#   make test-fast - the unit tests only (no slow or real-file tests): the inner loop
#   make docs  - the HTML docs in docs/_build/html (Sphinx, warnings are errors)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kneedata-installed
DEMO   ?= .kneedata-demo
OUT    ?= report

.PHONY: setup demo test test-fast lint docs lab clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/kneedata import sample_data --store $(DEMO)/store
	$(BIN)/kneedata report --store $(DEMO)/store \
	    --diary sample_data/pain_diary.csv --shoes sample_data/shoes.csv \
	    --routines sample_data/routines.csv --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check kneedata tests benchmarks sample_data
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -n 2 -q --durations=10

# the inner loop: everything but the tests marked slow or needing the real files
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not slow and not real_data" --durations=5

# the tests build them too (tests/test_docs.py), into a temporary folder
docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

# JupyterLab reads overrides.json from its application settings folder: double-clicking a
# notebooks/NN-topic.py file then opens it as a notebook (jupytext), not as text
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json

$(LAB_OVERRIDES): notebooks/jupyterlab-overrides.json $(STAMP)
	mkdir -p $(dir $@)
	cp notebooks/jupyterlab-overrides.json $@

lab: $(STAMP) $(LAB_OVERRIDES)
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) $(DEMO) $(OUT) docs/_build .pytest_cache .mypy_cache .ruff_cache
