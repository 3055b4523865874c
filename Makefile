# Entry points. Everything the targets need is installed here, pinned, into .venv/ (Python
# tools) and tests/node_modules/ (node tools); nothing needs Docker or an AWS account.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PYTHON ?= python3
CARGO ?= cargo

.PHONY: help demo test validate venv node chromium sam build deploy bench fuzz clean

help:
	@echo "make demo      run costradar locally against moto (no AWS account needed); KEEP=1 keeps the console open"
	@echo "make test      the whole test suite (unit, moto integration, templates)"
	@echo "make validate  template and policy checks (customer templates and the operator stack)"
	@echo "make build     sam build of the operator stack (arm64 Lambdas, cargo lambda)"
	@echo "make deploy    sam deploy (guided the first time: infra/samconfig.toml)"
	@echo "make bench     benchmarks: criterion (onboarding API, receiver pipeline, scan rules), receiver zip size and cold start, scan on moto, CUR queries vs DuckDB"
	@echo "make fuzz      60 s of cargo-fuzz on the receiver's parsing (needs the nightly toolchain)"

# Every Python venv is installed from a hashed lock (tests/requirements*.txt, written by
# tools/lock-python.sh from the .in files beside them); tools/check-locks.sh refuses anything else.
$(VENV)/.installed: tests/requirements.txt tests/requirements-pip.txt
	PYTHON=$(PYTHON) tools/locked-venv.sh $(VENV) tests/requirements.txt
	touch $@

venv: $(VENV)/.installed

# Node tools (asl-validator, aws-local-stepfunctions), pinned in tests/package-lock.json.
tests/node_modules/.installed: tests/package.json tests/package-lock.json
	npm ci --prefix tests --no-audit --no-fund --loglevel=error
	touch $@

node: tests/node_modules/.installed

# The console's browser test drives the OS's Chromium (Debian's package), installed when missing.
/usr/bin/chromium:
	if [ "$$(id -u)" = 0 ]; then s=; else s=sudo; fi; \
	  $$s apt-get update && $$s apt-get install -y --no-install-recommends chromium

chromium: /usr/bin/chromium

# aws-sam-cli in a venv of its own (.venv/sam/): its pins conflict with moto's.
sam: venv
	tools/side-venv.sh sam tests/requirements-sam.txt

test: venv node chromium
	tools/with-moto.sh tools/test.sh

demo: venv node chromium
	KEEP=$(KEEP) tools/with-moto.sh tools/demo.sh

validate: venv node
	tools/validate-stack.sh
	tools/check-templates.sh --report

# cargo lambda (pinned in tests/requirements.txt, .venv/bin) cross-compiles the arm64 binaries
# with zig, which its PyPI package brings along.
build: sam
	cd infra && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 ../$(VENV)/sam/bin/sam build

deploy: build
	cd infra && if grep -q '^parameter_overrides' samconfig.toml; then \
	  SAM_CLI_TELEMETRY=0 ../$(VENV)/sam/bin/sam deploy; \
	else \
	  SAM_CLI_TELEMETRY=0 ../$(VENV)/sam/bin/sam deploy --guided; \
	fi

bench: venv
	$(CARGO) bench --locked -p costradar-core --features test-support
	tools/bench-receiver.sh
	tools/bench_scan.sh
	tools/with-moto.sh $(CARGO) run --locked -q -p costradar-tests --bin load_model
	$(CARGO) build --locked --profile bench -p costradar-cli
	tools/side-venv.sh bench tests/requirements-bench.txt
	$(VENV)/bench/bin/python tools/bench_cur.py --costradar target/release/costradar

FUZZ_SECONDS ?= 60
.tools/bin/cargo-fuzz:
	$(CARGO) install --locked --root .tools cargo-fuzz --version 0.13.2

fuzz: .tools/bin/cargo-fuzz
	mkdir -p fuzz/corpus/receiver_event
	cp events/receiver/*.json fuzz/corpus/receiver_event/
	cd fuzz && PATH="$(CURDIR)/.tools/bin:$$PATH" $(CARGO) +nightly fuzz run receiver_event -- -max_total_time=$(FUZZ_SECONDS) -max_len=262144

clean:
	rm -rf $(VENV) target
