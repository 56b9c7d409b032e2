# Two commands do everything on a fresh machine:
#   make demo   - set up, build the quickstart corpus and run the whole quickstart recipe
#   make test   - set up and run the test suite
# Both create .venv with the CPU build of torch (an unpinned torch would pull a multi-GB CUDA build).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test setup lint clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[all,test]'
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/mixkit data quickstart --out examples/quickstart
	$(BIN)/mixkit run examples/quickstart/recipe.yaml

test: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf runs examples/quickstart/data examples/quickstart/tokenizer examples/quickstart/manifest.json
