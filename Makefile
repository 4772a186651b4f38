# Two entry points, each self-contained on a fresh machine (creates .venv, installs from PyPI):
#   make demo   set up and run the demo on a shipped spec
#   make test   set up and run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,plot]"
	touch $@

.PHONY: demo test bench
demo: $(BIN)/.installed
	$(BIN)/nnft validate cos_net
	$(BIN)/nnft run cos_net

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

bench: $(BIN)/.installed
	$(BIN)/python bench/bench_cos_net.py
