# Entry points. Everything the targets need is installed here, pinned, into .venv/ (Python
# tools) and tests/node_modules/ (node tools); nothing needs Docker or an AWS account.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PYTHON ?= python3
CARGO ?= cargo

.PHONY: help demo test validate venv build-release clean

help:
	@echo "make demo      run costradar locally against moto (no AWS account needed)"
	@echo "make test      the whole test suite (unit, moto integration, templates)"
	@echo "make validate  template and policy checks"

$(VENV)/.installed: tests/requirements.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	touch $@

venv: $(VENV)/.installed

test: venv
	tools/with-moto.sh tools/test.sh

demo: venv
	$(CARGO) build --locked -p costradar-cli
	tools/with-moto.sh tools/demo.sh

clean:
	rm -rf $(VENV) target
