"""Exceptions become an OFX status and one message for the node."""

from __future__ import annotations

from emotionedit.errors import AnalysisMismatchError
from emotionedit.node.errors import FAILED, GPU_OUT_OF_MEMORY, GPU_RENDER_FAILED, GpuUnavailable, describe_error


def test_user_errors_keep_their_message():
    assert describe_error(AnalysisMismatchError("frame 3 is not in the analysis")) == (
        FAILED, "frame 3 is not in the analysis")


def test_bugs_say_so_and_print_the_traceback(capsys):
    try:
        raise KeyError("landmarks")
    except KeyError as exc:
        status, text = describe_error(exc)
    assert status == FAILED
    assert text.startswith("internal error in the engine: KeyError") and "bug in EmotionEdit" in text
    assert "Traceback" in capsys.readouterr().err


def test_gpu_failures_let_the_host_retry_on_the_cpu():
    assert describe_error(GpuUnavailable("CuPy is not installed"))[0] == GPU_RENDER_FAILED
    fake_oom = type("OutOfMemoryError", (Exception,), {"__module__": "cupy.cuda.memory"})
    assert describe_error(fake_oom("out of memory allocating 1 GB"))[0] == GPU_OUT_OF_MEMORY
    fake_cuda = type("CUDARuntimeError", (Exception,), {"__module__": "cupy_backends.cuda.api.runtime"})
    assert describe_error(fake_cuda("an illegal memory access"))[0] == GPU_RENDER_FAILED


def test_torch_device_failures_let_the_host_retry_on_the_cpu():
    """The device path renders with torch: its out-of-memory is the host's GPU out-of-memory status, its other
    device errors a failed GPU render (the host renders the frame on the CPU instead)."""
    import torch

    status, text = describe_error(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert status == GPU_OUT_OF_MEMORY and "out of memory" in text
    assert describe_error(torch.AcceleratorError("CUDA error: an illegal memory access"))[0] == GPU_RENDER_FAILED
