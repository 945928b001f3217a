#!/bin/sh
# Make .gpu/, what bench/gpu_check.sh needs on the lent GPU machine (which has no mediapipe, no OpenImageIO and
# no network), in one command here: about two minutes on two cores, 18 MB.
#   sh bench/gpu_inputs.sh && echo then: device run "sh bench/gpu_check.sh" with carry [".gpu"], timeout_s 560
# The working tree travels with the run and must stay under 64 MiB: move docs/look-tests and docs/images out of
# the checkout for the run (they are in git) and back afterwards.
set -eu
PY=${PY:-.venv/bin/python}
rm -rf .gpu
mkdir -p .gpu/cache/footage .gpu/whl .gpu/analyses
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx "/.gpu/" "$exclude" 2>/dev/null || echo "/.gpu/" >> "$exclude"
clip=$(PYTHONPATH=python "$PY" -c "from emotionedit.footage import fetch_clip; print(fetch_clip('franck.mp4'))")
cp "$clip" .gpu/cache/footage/
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .gpu/whl OpenImageIO==3.0.21.0
PYTHONPATH=python:bench "$PY" bench/bench_device.py --save-inputs .gpu/device --frames 8
PYTHONPATH=python:bench "$PY" bench/bench_render_device.py --prepare .gpu/render --frames 240
# The tests' fixtures load their analyses from here on the GPU machine (tests/conftest.py, EMOTIONEDIT_TEST_ANALYSES).
EMOTIONEDIT_TEST_ANALYSES="$PWD/.gpu/analyses" PYTHONPATH=python "$PY" -m pytest -q -p no:cacheprovider \
  tests/node/test_node_device_render.py
du -sh .gpu
