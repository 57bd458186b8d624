# Two commands matter: `make demo` (the main job) and `make test` (everything CI checks).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP_DEMO := $(VENV)/.jbgrade-demo-$(shell cksum pyproject.toml | cut -d' ' -f1)
# Extras for `make test`; CI adds `local` (torch + transformers) where torch's CPU wheel is on disk.
EXTRAS ?= dev
comma := ,
STAMP_DEV := $(VENV)/.jbgrade-$(subst $(comma),-,$(EXTRAS))-$(shell cksum pyproject.toml | cut -d' ' -f1)
DEMO_OUT ?= jbgrade-demo-out
PYDIRS := $(wildcard src tests bench scripts fuzz)

.PHONY: demo test lint typecheck layers pytest clean golden fuzz

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_DEMO): | $(PY)
	$(PY) -m pip install --quiet -e ".[all]"
	touch $@

$(STAMP_DEV): | $(PY)
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@ $(STAMP_DEMO)

demo: $(STAMP_DEMO)
	$(BIN)/jbgrade demo --out $(DEMO_OUT)

lint: $(STAMP_DEV)
	$(BIN)/ruff check $(PYDIRS)
	$(BIN)/ruff format --check $(PYDIRS)

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

layers: $(STAMP_DEV)
	$(BIN)/lint-imports

# pytest exits 5 when it collected no test: that is a failure here, never a pass.
pytest: $(STAMP_DEV)
	$(PY) -m pytest -q -p no:cacheprovider; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

test: lint typecheck layers pytest

# Fuzz targets of every parser of outside input (not part of `make test`); see
# docs/design/0200-hostile-input.md for the last result. JBGRADE_FUZZ_EXAMPLES per target.
fuzz: $(STAMP_DEV)
	JBGRADE_FUZZ_EXAMPLES=$${JBGRADE_FUZZ_EXAMPLES:-20000} $(PY) -m pytest fuzz -q -p no:cacheprovider

golden: $(STAMP_DEV)
	$(PY) scripts/gen_golden.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .mypy_cache .ruff_cache
