# Terroir: `make demo` builds a release from generated demo data; `make test` runs the test suite.
# Both set up what they need first (a virtual environment pinned by requirements.lock; Chromium for the
# report tests). Set-up is skipped when it is up to date, so a rerun needs no network.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.terroir-installed
DEMO_OUT ?= demo-out

.PHONY: demo test test-fast lint setup browser clean bench bench-full

COMPOSE_SCHEMA := $(VENV)/share/compose-schema/.fetched

setup: $(STAMP) $(COMPOSE_SCHEMA)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Terroir needs Python 3.11 (found %d.%d)" % sys.version_info[:2])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# The Compose specification schema, as shipped inside the docker-compose 1.29 wheel (registry download only).
$(COMPOSE_SCHEMA): | $(STAMP)
	mkdir -p $(dir $@)
	$(BIN)/python -m pip download --quiet --no-deps --dest $(dir $@) docker-compose==1.29.2
	touch $@

demo: $(STAMP)
	$(BIN)/terroir demo --output $(DEMO_OUT)

browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "installing Chromium (Debian package) for the report tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-dejavu-core; }

test: $(STAMP) $(COMPOSE_SCHEMA) browser
	$(BIN)/python -m pytest -q -ra

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check pipelines filters schemas expectations tests

BENCH_STAMP := $(VENV)/.terroir-bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,bench]'
	touch $@

# Small sizes, under ten minutes on two cores: per-stage table, end to end against datatrove, dedup, PII.
bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/bench_stages.py --docs 1000
	$(BIN)/python benchmarks/bench_e2e.py --docs 1000 --workers 2
	$(BIN)/python benchmarks/bench_dedup.py --docs 2000 --throughput-docs 500
	$(BIN)/python benchmarks/bench_pii.py --docs 200 --repeat 1

# The figures of docs/benchmarks.md and docs/dedup.md: larger corpora and the scaling curves (about 80 minutes, most
# of it the whole pipeline at 1M documents; its corpus is generated first, about 5 minutes).
bench-full: $(BENCH_STAMP)
	$(BIN)/python benchmarks/bench_e2e.py --docs 10000 --workers 2
	$(BIN)/python benchmarks/bench_dedup.py --docs 10000 --scale 10000,100000,1000000
	$(BIN)/python benchmarks/bench_scaling.py --sizes 10000,100000,1000000

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
