#!/bin/sh
# Issue 12's device check in one command, for a session that is lent a GPU machine (docs/results.md, "Speed").
# That machine's python3 (3.12) holds CUDA torch, CuPy, OpenCV, pybind11 and CMake, but no mediapipe and no
# OpenImageIO, so the inputs are made here first (`sh bench/gpu_inputs.sh`) and travel with the run in .gpu/:
#   there: device run, command "sh bench/gpu_check.sh [STEPS]", carry [".gpu"], timeout_s 560
#          STEPS: any of build diag tests bench cli (default: all but diag); eight files come back at most
# Builds the kernel and the OFX node for that Python, runs the GPU tests (the node's CUDA path through the test
# host with real device images, in-process and through the engine server; the engine's device render against
# the CPU's), times the pixel step on the device against the CPU kernel and a device copy, and times
# `render --device cuda` against the CPU on a 1080p float EXR sequence. Each step is bounded and logged to $OUT
# (eight files at most come back from the device machine).
set -u
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
ROOT=$(pwd)
# Into that Python's own environment: the node's embedded engine and the engine server import from it too.
python3 -m pip install -q --no-index --no-deps --no-compile .gpu/whl/*.whl > "$OUT/gpu.txt" 2>&1 ||
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/whl/*.whl >> "$OUT/gpu.txt" 2>&1
export PYTHONPATH="/tmp/site:$ROOT/python:$ROOT/bench" PYTHONUNBUFFERED=1 GLOG_minloglevel=2
export EMOTIONEDIT_CACHE="$ROOT/.gpu/cache" EMOTIONEDIT_TEST_ANALYSES="$ROOT/.gpu/analyses"
step() {  # step NAME SECONDS COMMAND...: run, log to $OUT/NAME.log, note the time and status in $OUT/steps.txt
  name=$1; limit=$2; shift 2
  start=$(date +%s)
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  echo "$name rc=$? seconds=$(( $(date +%s) - start ))" | tee -a "$OUT/steps.txt"
}
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  python3 -c "import sys, torch, numpy, cupy, cv2; print(sys.version.split()[0], 'torch', torch.__version__, \
'cuda', torch.cuda.is_available(), 'numpy', numpy.__version__, 'cupy', cupy.__version__, 'cv2', cv2.__version__)"
  python3 -c "import OpenImageIO; print('OpenImageIO', OpenImageIO.VERSION_STRING)"; } >> "$OUT/gpu.txt" 2>&1
want() { case " $STEPS " in *" $1 "*) return 0;; esac; return 1; }
STEPS=${*:-build tests bench cli}
want build && step build 110 sh -c "cmake -S . -B /tmp/ee-build -DPython_EXECUTABLE=$(command -v python3) \
  -Dpybind11_DIR=$(python3 -m pybind11 --cmakedir) && cmake --build /tmp/ee-build --parallel 16"
# Whether CuPy compiles the fused kernel here (else the device renders through torch's operations, said why).
want build && python3 -c "from emotionedit.render import gpu_kernel; print('fused kernel usable:', gpu_kernel.usable(0))" \
  >> "$OUT/gpu.txt" 2>&1
# One frame in each CUDA set-up with all the host said (a hang shows its stacks): for reading a failure in one run.
want diag && step diag 130 python3 bench/cuda_host_check.py
want tests && step pytest 90 python3 -m pytest -q --timeout 60 -W default -p no:cacheprovider -rs \
  tests/engine/test_device_render.py tests/node/test_node_gpu.py tests/node/test_node_device_render.py
want tests && step pytest_host 75 python3 -m pytest -v -x --timeout 45 -W default -p no:cacheprovider -rs \
  tests/node/test_node_cuda_device.py
want bench && step bench_device 70 python3 bench/bench_device.py --inputs .gpu/device --device cuda \
  --out "$OUT/bench_device.json"
want cli && step bench_render 200 python3 bench/bench_render_device.py --inputs .gpu/render --frames "${CLI_FRAMES:-240}" \
  --out "$OUT/bench_render_device.json"
cat "$OUT/steps.txt"
tail -5 "$OUT/pytest.log" "$OUT/pytest_host.log" 2>/dev/null
