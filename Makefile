# Quick start: `make demo` runs the post's experiment, `make test` runs the test suite.
# Both create .venv and install degenet into it on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.degenet-installed

TORCH_VENV := .venv-torch
TORCH_BIN := $(TORCH_VENV)/bin
TORCH_STAMP := $(TORCH_VENV)/.degenet-installed

.PHONY: demo test test-torch bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

# The torch backend: torch first, pinned, so that nothing later asks pip for an unpinned
# torch (which resolves to a multi-GB CUDA build); no TensorFlow in this venv (Keras on
# torch would import it for file I/O).
$(TORCH_STAMP): pyproject.toml
	$(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_BIN)/python -m pip install --quiet --upgrade pip
	$(TORCH_BIN)/python -m pip install --quiet 'torch==2.13.0'
	$(TORCH_BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TORCH_STAMP)

demo: $(STAMP)
	$(BIN)/degenet demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# A small suite on the torch backend: fit, compare, report, save/load, estimators, demo
# (the rest of the suite tests backend-free code or the JAX engine itself).
TORCH_TESTS := tests/train/test_hostloop.py tests/train/test_backend_routes.py \
	tests/test_backends.py tests/modelfile tests/report

test-torch: $(TORCH_STAMP)
	KERAS_BACKEND=torch OMP_NUM_THREADS=1 $(TORCH_BIN)/python -m pytest -q $(TORCH_TESTS)

bench: $(STAMP)
	$(BIN)/python bench/seed_experiment.py

clean:
	rm -rf $(VENV) $(TORCH_VENV) build src/*.egg-info .pytest_cache
