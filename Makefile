# Two entry points: `make app` (set up, then serve the explorer) and `make test` (set up, then run the tests).
# Each creates .venv on first use; torch comes from the wheels pinned in pyproject.toml.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: app demo test benchmark clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

app: $(VENV)/.installed
	$(PY) app.py

demo: $(VENV)/.installed
	$(PY) -m trainer train --preset vae-anime64 --data synthetic:4000 --epochs 3 --out runs/demo-vae --no-cache
	@echo "samples per epoch: runs/demo-vae/samples/  curves: runs/demo-vae/loss_curves.png"

test: $(VENV)/.installed
	$(PY) -m pytest -q

benchmark: $(VENV)/.installed
	$(PY) benchmarks/train_throughput.py
	$(PY) benchmarks/app_latency.py

clean:
	rm -rf $(VENV) .cache runs .pytest_cache
