# Two entry points, each self-contained on a fresh machine (creates .venv, installs from PyPI):
#   make demo   set up and run the demo on a shipped spec
#   make test   set up and run the test suite (newest dependency versions)
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

.PHONY: demo test test-oldest bench
demo: $(BIN)/.installed
	$(BIN)/nnft validate cos_net
	$(BIN)/nnft run cos_net

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q --durations=15

# the same suite with every dependency at the lower bound pyproject.toml declares
test-oldest:
	$(PYTHON) -m venv $(VENV_OLD)
	$(VENV_OLD)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_OLD)/bin/python .ci/lowest_constraints.py > $(VENV_OLD)/constraints.txt
	$(VENV_OLD)/bin/python -m pip install --quiet -c $(VENV_OLD)/constraints.txt -e ".[test,plot]"
	$(VENV_OLD)/bin/python -m pytest -q

bench: $(BIN)/.installed
	$(BIN)/python bench/bench_cos_net.py
