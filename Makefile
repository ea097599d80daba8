# Two commands do all the set-up on a fresh machine (see README, Quick start):
#   make demo   installs into .venv and trains skip-gram vectors on the embedded default corpus
#   make test   installs the test and interop extras into .venv and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,interop]'
	touch $@

demo: $(VENV)/.installed
	mkdir -p out
	$(BIN)/fastemb skipgram -o out/vectors.txt --report out/report.json
	$(BIN)/fastemb neighbors out/vectors.txt king paris cars -k 5

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -rs

clean:
	rm -rf $(VENV) out .pytest_cache
