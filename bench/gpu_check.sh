#!/bin/sh
# Issue 12's device check in one command, for a session that is lent a GPU machine (docs/results.md, "Speed").
# That machine's python3 (3.12) holds CUDA torch, CuPy, OpenCV, pybind11 and CMake, but no mediapipe, so the
# frames and their analyses are made here first and travel with the run:
#   here:   PYTHONPATH=python .venv/bin/python bench/bench_device.py --save-inputs .gpu --frames 8
#           echo /.gpu/ >> .git/info/exclude
#   there:  device run, command "sh bench/gpu_check.sh", carry [".gpu"], timeout_s 540
# Builds the resampling kernel for that Python (the node is not needed there), then times the device path
# against the CPU kernel and a device-to-device copy, and checks its pixels against the CPU's.
set -eu
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/gpu.txt" 2>&1 || true
python3 -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'numpy', numpy.__version__)" \
  | tee -a "$OUT/gpu.txt"
cmake -S . -B /tmp/emotionedit-build -DEMOTIONEDIT_BUILD_OFX=OFF -DPython_EXECUTABLE="$(command -v python3)" \
  -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" > "$OUT/build.log" 2>&1
cmake --build /tmp/emotionedit-build --parallel >> "$OUT/build.log" 2>&1
PYTHONUNBUFFERED=1 PYTHONPATH=python python3 bench/bench_device.py --inputs .gpu --device cuda \
  --out "$OUT/bench_device.json" 2>&1 | tee "$OUT/bench_device.log"
