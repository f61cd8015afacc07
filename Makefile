# Every target creates .venv and installs the project on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test validate spec-diff conformance serve bench-server clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

validate: $(STAMP)
	$(PY) -m pytest -q tests/spec -p tests.spec.report

spec-diff: $(STAMP)
	@test -n "$(BASE)" || { echo "usage: make spec-diff BASE=<git ref>"; exit 2; }
	$(PY) -m conformance.specdiff --base $(BASE) openapi/openapi.yaml

serve: $(STAMP)
	$(PY) -m reference_server --host 127.0.0.1 --port 8900 --db $${DB:-reference.db} $(if $(ACCESS_TOKEN),--access-token $(ACCESS_TOKEN))

clean:
	rm -rf $(VENV) reports *.db
