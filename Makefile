# Two commands do everything on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test bench serve clean sdk sdk-test browser console console-test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The browser SDK (sdk/js), built into the file the server serves at /sdk/tianwang.js.
SDK_DIR := sdk/js
SDK_OUT := src/tianwang/static/sdk/tianwang.js
SDK_DEPS := $(SDK_DIR)/node_modules/.tw-installed-stamp

$(SDK_DEPS): $(SDK_DIR)/package.json $(wildcard $(SDK_DIR)/package-lock.json)
	cd $(SDK_DIR) && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	touch $@

$(SDK_OUT): $(SDK_DEPS) $(SDK_DIR)/build.mjs $(wildcard $(SDK_DIR)/src/*.js)
	cd $(SDK_DIR) && node build.mjs

sdk: $(SDK_OUT)

sdk-test: sdk
	cd $(SDK_DIR) && node --test test/*.test.js

# The analysts' console (console/web), built into the files the server serves at /console.
CONSOLE_DIR := console/web
CONSOLE_OUT := src/tianwang/static/console/app.js
CONSOLE_DEPS := $(CONSOLE_DIR)/node_modules/.tw-installed-stamp

$(CONSOLE_DEPS): $(CONSOLE_DIR)/package.json $(wildcard $(CONSOLE_DIR)/package-lock.json)
	cd $(CONSOLE_DIR) && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	touch $@

$(CONSOLE_OUT): $(CONSOLE_DEPS) $(CONSOLE_DIR)/build.mjs $(shell find $(CONSOLE_DIR)/src -type f 2>/dev/null)
	cd $(CONSOLE_DIR) && node build.mjs

console: $(CONSOLE_OUT)

console-test: console
	cd $(CONSOLE_DIR) && node --test test/*.test.js

setup: $(STAMP) sdk console

# Debian's Chromium and ChromeDriver for the browser tests (tests/e2e); without them those skip and say so.
browser:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || \
	  (apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null 2>&1 || \
	   (apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null 2>&1)) || \
	  echo "chromium could not be installed: the browser tests will skip"

demo: setup
	$(BIN)/tianwang demo

# The layers contract (pyproject.toml [tool.importlinter]) first: an import that runs back up fails the build.
test: setup sdk-test console-test browser
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest

bench: setup
	command -v wrk >/dev/null || apt-get install -y wrk || echo "wrk not installed: the HTTP part of the bench is skipped"
	$(BIN)/python bench/decide.py

serve: setup
	$(BIN)/tianwang serve

clean:
	rm -rf $(VENV) tianwang-data .pytest_cache
