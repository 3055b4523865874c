# Entry points. Everything the targets need is installed here, pinned, into .venv/ (Python
# tools) and tests/node_modules/ (node tools); nothing needs Docker or an AWS account.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PYTHON ?= python3
CARGO ?= cargo

.PHONY: help demo test validate venv bench fuzz clean

help:
	@echo "make demo      run costradar locally against moto (no AWS account needed)"
	@echo "make test      the whole test suite (unit, moto integration, templates)"
	@echo "make validate  template and policy checks"
	@echo "make bench     criterion benchmarks (onboarding API, receiver pipeline)"
	@echo "make fuzz      60 s of cargo-fuzz on the receiver's parsing (needs the nightly toolchain)"

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

validate: venv
	tools/check-templates.sh --report

bench:
	$(CARGO) bench --locked -p costradar --features test-support

FUZZ_SECONDS ?= 60
.tools/bin/cargo-fuzz:
	$(CARGO) install --locked --root .tools cargo-fuzz --version 0.13.2

fuzz: .tools/bin/cargo-fuzz
	mkdir -p fuzz/corpus/receiver_event
	cp events/receiver/*.json fuzz/corpus/receiver_event/
	cd fuzz && PATH="$(CURDIR)/.tools/bin:$$PATH" $(CARGO) +nightly fuzz run receiver_event -- -max_total_time=$(FUZZ_SECONDS) -max_len=262144

clean:
	rm -rf $(VENV) target
