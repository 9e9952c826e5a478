# Two commands for a newcomer: `make run` (the weekly job) and `make test`. Each builds what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/engagement-pipeline
CUSTOMERS ?= 100000
WEEKS ?= 12
SEED ?= 7
RUN_DATE ?=

.PHONY: run test bench install clean lint

run: $(VENV)/.installed
	$(CLI) generate --customers $(CUSTOMERS) --weeks $(WEEKS) --seed $(SEED) --if-missing
	$(CLI) run $(if $(RUN_DATE),--run-date $(RUN_DATE))

test: $(VENV)/.installed
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) -m tools.bench $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[training,local,dev]'
	touch $@

clean:
	rm -rf $(VENV) local_data
