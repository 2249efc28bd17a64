# Two commands do everything on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test bench serve clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/tianwang demo

test: setup
	$(BIN)/python -m pytest

bench: setup
	command -v wrk >/dev/null || apt-get install -y wrk || echo "wrk not installed: the HTTP part of the bench is skipped"
	$(BIN)/python bench/decide.py

serve: setup
	$(BIN)/tianwang serve

clean:
	rm -rf $(VENV) tianwang-data .pytest_cache
