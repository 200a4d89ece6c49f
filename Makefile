# Two commands on a fresh machine: `make run` (local stack) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install browser bundle run test test-fast unit lint format package bench soak demo clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# checkov pins an older boto3 than the gateway: it gets a virtualenv of its own (requirements-checkov.txt).
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

# axe-core checks each console page's accessibility in those tests: the npm package's axe.min.js, fetched here
# (at install, never at test time).
AXE_VERSION := 4.11.0
AXE := .axe/node_modules/axe-core/axe.min.js
# The console's browser tests drive Debian's Chromium (tests/e2e/test_console.py); installed when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
	@test -f $(AXE) || npm install --no-save --no-audit --no-fund --prefix .axe axe-core@$(AXE_VERSION) >/dev/null

chalicelib/policy_bundle.json: $(STAMP) $(wildcard policies/*.yaml)
	$(BIN)/python -m tools.cli.main policy publish

bundle: chalicelib/policy_bundle.json

run: install bundle
	$(BIN)/python -m tools.cli.main local

# checkov: any finding on the template not fixed or skipped on its resource with a reason fails the build
# (docs/decisions/0023); --skip-download keeps it offline.
lint: install bundle $(CHECKOV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m tools.infra.package --template-only build/template
	$(BIN)/cfn-lint build/template/sam.json
	$(CHECKOV_VENV)/bin/checkov --file build/template/sam.json --framework cloudformation --compact --quiet \
		--skip-download

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install browser bundle lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: install browser bundle  # the suite without lint and without the tests marked slow (pyproject.toml)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow"

unit: install
	$(BIN)/python -m pytest tests/unit

package: install bundle  # build/package/sam.json (SAM, resources merged) and deployment.zip: docs/deploy.md
	$(BIN)/python -m tools.infra.package build/package

demo: install  # against the running `make run`: opt-outs, then examples/campaign.jsonl, then a summary
	$(BIN)/python -m tools.cli.main demo

bench: install bundle  # ONLY=part[,part]: one part (bench/run.py names them), e.g. make bench ONLY=replies
	$(BIN)/python -m bench.run $(if $(ONLY),--only $(ONLY))

soak: install bundle  # SOAK_SECONDS (180), SOAK_CLIENTS, SOAK_API_PROCESSES, SOAK_FAULTS, SOAK_SEED: bench/soak.py
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) build chalicelib/policy_bundle.json .gateway
