# Two entry points, each self-contained on a fresh machine (creates .venv, installs from PyPI):
#   make demo   set up and run the demo on a shipped spec: a saved result and its plot in build/demo/
#   make test   set up and run the test suite (newest dependency versions)
#   make docs   build the documentation site (docs/ + API reference) into build/site, warnings as errors
#   make test-oldest   the suite with every dependency at its declared lower bound
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,plot,docs]"
	touch $@

VENV_OLD := .venv-oldest

.PHONY: demo test test-oldest bench docs
DEMO := build/demo
demo: $(BIN)/.installed
	$(BIN)/nnft validate cos_net
	mkdir -p $(DEMO)
	$(BIN)/nnft run cos_net --out $(DEMO)/cos_net.nc --plot $(DEMO)/cos_net.png
	$(BIN)/nnft show $(DEMO)/cos_net.nc
	@echo "demo: result $(DEMO)/cos_net.nc (nnft show / nnft.load_result), figure $(DEMO)/cos_net.png"

docs: $(BIN)/.installed
	$(BIN)/mkdocs build --strict

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q --durations=15 -n auto --maxprocesses 4 --dist loadfile

# the same suite with every dependency at the lower bound pyproject.toml declares
test-oldest:
	$(PYTHON) -m venv $(VENV_OLD)
	$(VENV_OLD)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_OLD)/bin/python .ci/lowest_constraints.py > $(VENV_OLD)/constraints.txt
	$(VENV_OLD)/bin/python -m pip install --quiet -c $(VENV_OLD)/constraints.txt -e ".[test,plot]"
	$(VENV_OLD)/bin/python -m pytest -q

bench: $(BIN)/.installed
	$(BIN)/python bench/bench_cos_net.py
