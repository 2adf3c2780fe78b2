# Two commands set everything up: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast perf notebooks wheel clean

$(STAMP): pyproject.toml requirements-lock.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q torch==2.14.1 torchvision==0.29.1
	$(PIP) install -q -r requirements-lock.txt
	$(PIP) install -q --no-deps neurogym==2.3.1
	$(PIP) install -q --no-deps -e .
	$(PY) -c "import neurovision, brainscore_vision, neurogym, torchdiffeq, netCDF4"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	BS_INSTALL_DEPENDENCIES=no $(PY) -m neurovision demo --out demo-output

test: $(STAMP)
	BS_INSTALL_DEPENDENCIES=no $(PY) -m pytest -q --durations=15

test-fast: $(STAMP)
	BS_INSTALL_DEPENDENCIES=no $(PY) -m pytest -q -m "not slow"

perf: $(STAMP)
	$(PY) -m neurovision perf

notebooks: $(STAMP)
	$(PY) -m neurovision notebooks render --out docs/notebooks

wheel: $(STAMP)
	$(PIP) wheel --no-deps --no-build-isolation -w dist .

clean:
	rm -rf $(VENV) dist build demo-output *.egg-info
