# Every target creates .venv and installs the project on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install lint test validate spec-diff conformance serve bench-server bench-suite bench-remote reliability selftest interop variations clean

# The node tools (Prism for interop, Redocly and Spectral for validate and its tests) are the versions pinned in
# package-lock.json, installed into node_modules/ by `npm ci` (never globally) on first use and after either file
# changes; no install scripts, no telemetry.
NPM        ?= npm
NODE_STAMP := node_modules/.installed
export SCARF_ANALYTICS := false
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true

$(NODE_STAMP): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --ignore-scripts
	touch $(NODE_STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest -q

# make validate [SPEC=file] [LINT_FORMAT=text|github]: three independent voices on the contract (default
# openapi/openapi.yaml), each run even if one before it failed; exit 1 if any reports an error.
#   our lint   pytest over tests/spec (each rule a test, then every problem listed; slow tests are make test's),
#   redocly    `redocly lint`, the recommended ruleset as redocly.yaml configures it,
#   spectral   `spectral lint`, spectral:oas plus the project's rules (.spectral.yaml, spectral/functions/).
# LINT_FORMAT=github prints GitHub Actions annotations (::error file=...,line=...) from each voice.
SPEC        ?= openapi/openapi.yaml
LINT_FORMAT ?= text
REDOCLY     := node_modules/.bin/redocly
SPECTRAL    := node_modules/.bin/spectral
GITHUB_FORMAT = $(if $(filter github,$(LINT_FORMAT)),--format github-actions)

validate: $(STAMP) $(NODE_STAMP)
	@failed=""; \
	echo "== our lint: pytest tests/spec on $(SPEC)"; \
	$(PY) -m pytest -q tests/spec -m 'not slow' -p tests.spec.report --contract '$(SPEC)' --lint-format '$(LINT_FORMAT)' \
		|| failed="$$failed our-lint"; \
	echo "== redocly lint $(SPEC) (redocly.yaml)"; \
	$(REDOCLY) lint --config redocly.yaml $(GITHUB_FORMAT) '$(SPEC)' || failed="$$failed redocly"; \
	echo "== spectral lint $(SPEC) (.spectral.yaml)"; \
	$(SPECTRAL) lint --ruleset .spectral.yaml $(GITHUB_FORMAT) '$(SPEC)' || failed="$$failed spectral"; \
	if [ -n "$$failed" ]; then echo "make validate: errors from$$failed"; exit 1; fi; \
	echo "make validate: 0 errors from our lint, redocly and spectral"

# make spec-diff BASE=<git ref> [FORMAT=text|json|markdown|github] [FAIL_ON=breaking|warning|never] [SPEC=file]:
# every change of the contract since BASE under a check ID and a severity; exit 1 on a breaking change that was
# not accepted (an info.version bump plus a line in openapi/CHANGELOG.md); `python -m conformance.specdiff --checks`
# lists the checks. (Through make, an exit 1 shows as make's 2; the module keeps 0/1/2.)
FORMAT  ?= text
FAIL_ON ?= breaking
spec-diff: $(STAMP)
	@test -n "$(BASE)" || { echo "usage: make spec-diff BASE=<git ref> [FORMAT=..] [FAIL_ON=..]"; exit 2; }
	$(PY) -m accounting_conformance.conformance.specdiff --base '$(BASE)' --format '$(FORMAT)' --fail-on '$(FAIL_ON)' '$(SPEC)'

# make conformance [TARGET=url] [ACCESS_TOKEN=..] [PROFILE=quick] [SEED=n] ...: any setting of `conformance --help`,
# by its environment name. Nothing is listed here: make hands the variables of its command line (and its own environment)
# to the recipe as environment variables, which the console script reads; so no secret is on a command line, and the
# silent recipe echoes nothing. Make reports any failing recipe as its own exit 2: the suite's last line says its real
# exit code and verdict (0 conformant, 1 violations found, 2 could not judge), and `conformance` itself keeps them.
conformance: $(STAMP)
	@$(VENV)/bin/conformance; code=$$?; [ $$code -eq 0 ] || \
	echo "make conformance: the suite exited $$code (line above); make shows it as exit 2, .venv/bin/conformance keeps 0/1/2"; \
	exit $$code

# make serve [ACCESS_TOKEN=..] [FAULT=name] [DB=file]: the token reaches the server in the environment, never echoed.
serve: $(STAMP)
	@echo "make serve: the reference server on http://127.0.0.1:8900 (db $${DB:-reference.db})"
	@$(PY) -m reference_server --host 127.0.0.1 --port 8900 --db $${DB:-reference.db} $(if $(FAULT),--fault '$(FAULT)')

bench-server: $(STAMP)
	$(PY) -m accounting_conformance.reference_server.bench

bench-suite: $(STAMP)
	$(PY) -m accounting_conformance.conformance.timing

reliability: $(STAMP)
	$(PY) -m accounting_conformance.conformance.reliability

# make selftest [PROFILE=quick|default|thorough] [FAULTS=a,b] [ROTATE=n] [CLEAN_RUNS=n] [CLI_CLEAN_RUNS=n] [SEED=n]
#               [COMPARE_CLI=0|1] [ALL_FAILURES=1] [VARIATIONS=all|none|a,b]
COMPARE_CLI ?= 1
SELFTEST_ARGS = $(if $(PROFILE),--profile '$(PROFILE)') $(if $(FAULTS),--faults '$(FAULTS)') \
	$(if $(ROTATE),--rotate '$(ROTATE)') $(if $(CLEAN_RUNS),--clean-runs '$(CLEAN_RUNS)') $(if $(SEED),--seed '$(SEED)') \
	$(if $(CLI_CLEAN_RUNS),--cli-clean-runs '$(CLI_CLEAN_RUNS)') $(if $(filter 1,$(ALL_FAILURES)),--all-failures) \
	$(if $(filter 1,$(COMPARE_CLI)),--compare-cli) $(if $(VARIATIONS),--variations '$(VARIATIONS)')

# make bench-remote [DELAYS=0,25,50] [PROFILES=quick,default] [WIDTHS=8] [SEED=n]: the suite against the reference server
# behind a proxy adding DELAYS ms before each response (conformance/latency_proxy.py), at each CONCURRENCY of WIDTHS
# (WIDTHS=1,8: one request at a time beside the streams); the table, then requests and seconds per phase, on stdout,
# and all of it with each test's figures in build/bench-remote.json. Exit 1 if a run did not exit 0.
BENCH_REMOTE_ARGS = $(if $(DELAYS),--delays '$(DELAYS)') $(if $(PROFILES),--profiles '$(PROFILES)') \
	$(if $(WIDTHS),--concurrency '$(WIDTHS)') $(if $(SEED),--seed '$(SEED)')

bench-remote: $(STAMP)
	$(PY) -m accounting_conformance.conformance.bench_remote $(BENCH_REMOTE_ARGS)

selftest: $(STAMP)
	$(PY) -m accounting_conformance.conformance.selftest $(SELFTEST_ARGS)

# make variations [PROFILE=quick|default|thorough] [SEED=n] [VARIATIONS=all|a,b]: the reference server behind a proxy
# that varies its answers only as the contract and HTTP allow (reference_server/variations.py); any failure is a false alarm.
VARIATIONS_ARGS = $(if $(PROFILE),--profile '$(PROFILE)') $(if $(SEED),--seed '$(SEED)') \
	$(if $(VARIATIONS),--variations '$(VARIATIONS)')

variations: $(STAMP)
	$(PY) -m accounting_conformance.conformance.variations $(VARIATIONS_ARGS)

# make interop [PROFILE=quick|default|thorough] [SEED=n] [KEEP_REPORTS=dir] [INTEROP_TARGETS=mock-static,mock-dynamic,proxy]
# The suite against Prism's mocks of the contract and Prism's validating proxy in front of the reference server.
INTEROP_ARGS = $(if $(PROFILE),--profile '$(PROFILE)') $(if $(SEED),--seed '$(SEED)') \
	$(if $(KEEP_REPORTS),--keep-reports '$(KEEP_REPORTS)') $(if $(INTEROP_TARGETS),--targets '$(INTEROP_TARGETS)')

interop: $(STAMP) $(NODE_STAMP)
	$(PY) -m accounting_conformance.conformance.interop $(INTEROP_ARGS)

# make lint: ruff (lint and format check) over the repository and mypy --strict over the packages. mypy cannot
# follow the package-dir mapping of pyproject.toml, so it reads them through build/typecheck/accounting_conformance,
# a tree of symlinks to the repository's folders. The linters are the `lint` extra (pinned in pyproject.toml).
LINT_STAMP := $(VENV)/.lint-installed
TYPECHECK  := build/typecheck/accounting_conformance

$(LINT_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[lint]'
	touch $(LINT_STAMP)

$(TYPECHECK):
	mkdir -p $(TYPECHECK)
	ln -sfn ../../../conformance $(TYPECHECK)/conformance
	ln -sfn ../../../strategies $(TYPECHECK)/strategies
	ln -sfn ../../../reference_server $(TYPECHECK)/reference_server

lint: $(LINT_STAMP) $(TYPECHECK)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy -p accounting_conformance.conformance -p accounting_conformance.strategies \
		-p accounting_conformance.reference_server

clean:
	rm -rf $(VENV) reports *.db build/typecheck
