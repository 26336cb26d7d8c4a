# Every target creates .venv on first use: on a fresh machine `make demo` and `make test` are enough.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# The Lambda runtime is Python 3.12; fall back to python3 where it is not installed.
PYTHON ?= $(shell for p in python3.12 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 2>/dev/null) python3; do $$p -c 'import sys' >/dev/null 2>&1 && { echo $$p; break; }; done)

.PHONY: demo demo-shifted shifted-clock test test-shifted test-all test-artifact iam-lint test-browser browser-deps console-screenshots lint checkov bench chaos fuzz build deploy clean validate

$(BIN)/socialcare: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

demo: $(BIN)/socialcare
	$(BIN)/socialcare demo

test: $(BIN)/socialcare
	$(BIN)/pytest -q

# The default suite with the whole process clock $(SHIFT_DAYS) days ahead, through Debian's libfaketime
# (apt-get install faketime): no test may depend on the date. tests/shifted_clock/faketime_fixes.c,
# preloaded beside it, mends two things libfaketime 0.9.10 breaks in a threaded Python: timed waits
# (their deadlines stay on the real clock) and getenv racing setenv (a segmentation fault).
# -m: libfaketime's thread-safe build; the suite runs dozens of threads.
# demo-shifted runs the demo the same way.
SHIFT_DAYS := 400
FAKETIME_FIXES := .shifted-clock/faketime_fixes.so
SHIFTED := LD_PRELOAD=$(abspath $(FAKETIME_FIXES)) faketime -m -f '+$(SHIFT_DAYS)d'
$(FAKETIME_FIXES): tests/shifted_clock/faketime_fixes.c
	mkdir -p $(@D)
	$(CC) -shared -fPIC -O2 -Wall -Werror -o $@ $< -ldl -lpthread

# Checked once per build of the fixes: the clock reads $(SHIFT_DAYS) days ahead and the environment race is mended.
SHIFTED_CHECKED := .shifted-clock/checked
$(SHIFTED_CHECKED): $(BIN)/socialcare $(FAKETIME_FIXES) tests/shifted_clock/check.py
	@command -v faketime >/dev/null || { echo "a shifted clock needs libfaketime: apt-get install faketime" >&2; exit 2; }
	@$(SHIFTED) $(BIN)/python tests/shifted_clock/check.py $(SHIFT_DAYS) $$(date +%s) 3
	@touch $@

shifted-clock: $(SHIFTED_CHECKED)

test-shifted: shifted-clock
	$(SHIFTED) $(BIN)/pytest -q

demo-shifted: shifted-clock
	$(SHIFTED) $(BIN)/socialcare demo

test-all: $(BIN)/socialcare
	$(BIN)/pytest -q -m ''

# The web console in Debian's headless Chromium against a real `socialcare local up` (about 70 s).
# Chromium and its driver come from apt (never a browser download); selenium from the dev extra.
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); $$SUDO apt-get update -qq && \
	  $$SUDO apt-get install -y --no-install-recommends chromium chromium-driver; }

test-browser: browser-deps $(BIN)/socialcare
	$(BIN)/pytest -q -m browser tests/browser

# The screenshots in docs/console.md: the browser scenario, saving each page.
console-screenshots: browser-deps $(BIN)/socialcare
	SOCIALCARE_SCREENSHOTS=docs/console $(BIN)/pytest -q -m browser tests/browser

# SAM CLI pins an older boto3: it lives in its own virtual environment.
SAM := .sam-venv/bin/sam
$(SAM):
	$(PYTHON) -m venv .sam-venv
	.sam-venv/bin/pip install --quiet aws-sam-cli==1.170.0

# checkov pins many packages of its own: it lives in its own tool venv, never in the dev extra.
CHECKOV_VERSION := 3.3.30
CHECKOV := .checkov-venv/bin/checkov
$(CHECKOV):
	$(PYTHON) -m venv .checkov-venv
	.checkov-venv/bin/pip install --quiet --upgrade pip
	.checkov-venv/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

lint: $(BIN)/socialcare validate checkov iam-lint
	$(BIN)/ruff check layers functions tests bench
	$(BIN)/ruff format --check layers functions tests bench
	$(BIN)/cfn-lint template.yaml

# Security posture of template.yaml: 0 failed checks; every skip is justified in resource Metadata.
checkov: $(CHECKOV)
	$(CHECKOV) -f template.yaml --framework cloudformation --compact --quiet --skip-download

# parliament (IAM policy linter) over every role policy of the translated template; its own tool venv.
# It still imports pkg_resources, which setuptools 81 dropped: setuptools is pinned beside it.
PARLIAMENT := .parliament-venv/bin/parliament
$(PARLIAMENT):
	$(PYTHON) -m venv .parliament-venv
	.parliament-venv/bin/pip install --quiet parliament==1.6.4 setuptools==75.8.0

iam-lint: $(BIN)/socialcare $(PARLIAMENT)
	@mkdir -p .aws-sam
	$(BIN)/python infra/iam_lint.py --export .aws-sam/iam-policies.json
	.parliament-venv/bin/python infra/iam_lint.py .aws-sam/iam-policies.json

validate: $(SAM)
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(SAM) validate --lint

bench: $(BIN)/socialcare
	$(BIN)/python -m bench

# 5,000 mentions through the whole local pipeline under injected faults (SOCIALCARE_CHAOS_MENTIONS to change).
chaos: $(BIN)/socialcare
	$(BIN)/pytest -q -m slow tests/chaos

# Hypothesis at scale on every input boundary: about 135,000 generated inputs (SOCIALCARE_FUZZ_SCALE).
fuzz: $(BIN)/socialcare
	$(BIN)/pytest -q -m slow tests/fuzz

# The layer is built by layers/socialcare/Makefile (runtime code + requirements.txt, generated from pyproject).
build: $(SAM)
	PATH="$$(dirname $(PYTHON)):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM) build

# What `sam build` produced, each function in a fresh Python 3.12 holding only its build directory, the
# layer and the Lambda runtime's boto3, driving the real state machine on the local stack (tests/artifact).
test-artifact: $(BIN)/socialcare build
	$(BIN)/python infra/layer_requirements.py --check
	$(BIN)/pytest -q -m artifact tests/artifact

deploy: $(SAM)
	SAM_CLI_TELEMETRY=0 $(SAM) deploy --guided

# Every tool environment and output the targets above create.
clean:
	rm -rf $(VENV) .sam-venv .checkov-venv .parliament-venv .shifted-clock .aws-sam .local-stack .bench .hypothesis .ruff_cache \
		layers/socialcare/*.egg-info
