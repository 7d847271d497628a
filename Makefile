# DicomAIExtension: two commands from a fresh clone.
#   make demo    build .venv from the pinned requirements and run the demo (then its DICOMweb part on a
#                throw-away Orthanc: scripts/demo_dicomweb.py)
#   make test    lint, install the independent checkers, Orthanc and the OHIF Viewer (outside the repo),
#                run every test suite, then the core tests again on the oldest supported highdicom/pydicom
# Other targets: venv, venv-oldest, peers, servers, viewer, lint, bench, bench-scale, bench-workers, bench-batch
# (BENCH_ARGS=...), fuzz (FUZZ_CASES=...), clean, distclean.

PYTHON ?= python3
VENV ?= .venv
VENV_OLDEST ?= .venv-oldest
PY := $(VENV)/bin/python
PY_OLDEST := $(VENV_OLDEST)/bin/python
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
BENCH_ARGS ?=
FUZZ_CASES ?= 20000
FUZZ_ARGS ?=
DEMO_ARGS ?=

# a venv is up to date when its stamp is newer than what it was built from
STAMP := $(VENV)/.dicomai-installed
STAMP_OLDEST := $(VENV_OLDEST)/.dicomai-installed
PIP_FLAGS := --disable-pip-version-check --no-input

.PHONY: all venv venv-oldest peers sysdeps servers viewer test lint demo bench bench-scale bench-workers bench-batch fuzz clean distclean

all: test

venv: $(STAMP)

$(STAMP): requirements/dev.txt requirements/core.txt pyproject.toml
	@test -x $(PY) || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); \
	  $(PY) -m pip install $(PIP_FLAGS) -q --upgrade pip; }
	$(PY) -m pip install $(PIP_FLAGS) -q -r requirements/dev.txt
	$(PY) -m pip install $(PIP_FLAGS) -q --no-deps -e .
	@touch $@

venv-oldest: $(STAMP_OLDEST)

$(STAMP_OLDEST): requirements/oldest.txt pyproject.toml
	@test -x $(PY_OLDEST) || { echo "creating $(VENV_OLDEST) with $(PYTHON)"; $(PYTHON) -m venv $(VENV_OLDEST); \
	  $(PY_OLDEST) -m pip install $(PIP_FLAGS) -q --upgrade pip; }
	$(PY_OLDEST) -m pip install $(PIP_FLAGS) -q -r requirements/oldest.txt
	$(PY_OLDEST) -m pip install $(PIP_FLAGS) -q --no-deps -e .
	@touch $@

# dciodvfy/dcentvfy, dcmqi, dcmjs (+ dsrdump via apt when root) into
# $${DICOMAI_PEERS_HOME:-~/.cache/dicomai-peers}; a no-op when already there
peers:
	bash scripts/install_peers.sh

# EGL/Mesa for offscreen slice rendering (apt-get when root; a no-op when present)
sysdeps:
	bash scripts/install_system_deps.sh

# Orthanc + DICOMweb plugin (apt-get when root; a no-op when present): the real archive of the tests
servers:
	bash scripts/install_servers.sh

# the OHIF Viewer (npm pack @ohif/app, pinned) into $${DICOMAI_VIEWER_HOME:-~/.cache/dicomai-viewer}
# and Debian chromium + fonts (apt-get when root): what Testing/viewer drives; a no-op when present
viewer:
	bash scripts/install_viewer.sh

lint: venv
	$(VENV)/bin/ruff check .

test: venv peers sysdeps servers viewer
	$(VENV)/bin/ruff check .
	DICOMAI_REQUIRE_PEERS=1 $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup Testing $(PYTEST_ARGS)
	@if [ -d Testing/core ]; then \
	  $(MAKE) --no-print-directory venv-oldest && \
	  echo "core tests on the oldest supported versions ($(VENV_OLDEST)):" && \
	  DICOMAI_REQUIRE_PEERS=1 $(PY_OLDEST) -m pytest -n $(PYTEST_WORKERS) Testing/core $(PYTEST_ARGS); \
	fi

demo: venv sysdeps servers
	$(PY) -m dicomai_samples.demo $(DEMO_ARGS)
	$(PY) scripts/demo_dicomweb.py --out demo-output/dicomweb

bench: venv peers
	$(PY) bench/run.py $(BENCH_ARGS)

# time and memory against slices x segments, with the peers (BENCH_ARGS=--quick: 200/600 slices; --slices 40,80 for a smoke run)
bench-scale: venv peers
	$(PY) bench/scale.py $(BENCH_ARGS)

# one big export with 1 and 2 encoding threads (BENCH_ARGS="--slices 200 --segments 10" for a smaller one)
bench-workers: venv
	$(PY) bench/workers.py $(BENCH_ARGS)

# cases per minute of `dicomai batch` with 1 and 2 Dask workers (BENCH_ARGS=--quick for a smoke run)
bench-batch: venv
	$(PY) bench/batch.py $(BENCH_ARGS)

# the long fuzz run over the SEG/SR readers; writes fuzz-report.md (the short one is in make test)
fuzz: venv
	$(PY) Testing/fuzz/run.py --cases $(FUZZ_CASES) --report fuzz-report.md $(FUZZ_ARGS)

clean:
	rm -rf demo-output build dist .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -path ./$(VENV_OLDEST) -prune -o \
	  \( -name __pycache__ -o -name '*.egg-info' \) -type d -prune -exec rm -rf {} +

# also the virtual environments (the peers cache outside the repo stays; delete it by hand)
distclean: clean
	rm -rf $(VENV) $(VENV_OLDEST)
