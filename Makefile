# cookiecutter-mlops-ci: tasks for developing the template itself. `make` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV ?= .venv
BIN := $(abspath $(VENV))/bin
# Dev tools (uv, cookiecutter, actionlint, shellcheck, ...) first on PATH, also for sub-makes.
export PATH := $(BIN):$(PATH)
export MLFLOW_DISABLE_TELEMETRY := true
DEMO_DIR ?= build/demo
PYTEST_WORKERS ?= auto

.PHONY: help dev demo test test-fast lint clean bench bench-smoke

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements-dev.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-dev.txt
	touch $@

dev: $(VENV)/.installed ## Install the template's dev tools into .venv

demo: dev ## Render the template with defaults and run the generated project's main job
	rm -rf $(DEMO_DIR)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO_DIR) .
	cd $(DEMO_DIR)/my-ml-project && $(MAKE) install pipeline VENV=.venv

test: dev ## Run the whole test suite (renders, hooks, workflows, generated projects)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=25

test-fast: dev ## Run the fast subset (no generated-project installs; under 2 minutes)
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not slow"

lint: dev ## Lint the template's own code
	$(BIN)/ruff check hooks tests bench
	$(BIN)/ruff format --check hooks tests bench

clean: ## Remove build output and caches (keeps .venv)
	rm -rf build .cache .pytest_cache .ruff_cache

bench: dev ## Benchmarks: pipeline tax, stages, scaling to 1M rows, workflow overhead, installs
	$(BIN)/python bench/run.py

bench-smoke: dev ## The benchmark on tiny sizes (seconds, not minutes)
	$(BIN)/python bench/run.py --repeats 1 --sizes 500,1000 --contract-rows 20000,2000 --monitor-rows 2000 --mixed-rows 2000 --skip-workflows --skip-installs --out build/bench-smoke
