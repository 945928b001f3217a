"""A node module for CUDA renders whose 'device' pointers are really host memory.

The test host can flag a render as CUDA without a GPU; this module checks what the
node passes (the stream, and the view descriptors) and renders through the real
engine by reading the descriptors back as numpy views, so the output must equal a
CPU render exactly.
"""

from __future__ import annotations

import ctypes

import numpy as np

from emotionedit.node import describe_error, purge
from emotionedit.node import prepare as real_prepare
from emotionedit.node.gpu import using_host_memory

__all__ = ["describe_error", "prepare", "purge"]

EXPECTED_STREAM = 0x5EED


def host_view(view) -> np.ndarray:
    """The numpy array a descriptor ({ptr, low, span, shape, strides, dtype}) stands for."""
    raw = (ctypes.c_char * view["span"]).from_address(view["low"])
    base = np.frombuffer(raw, np.uint8)
    offset = view["ptr"] - view["low"]
    return np.ndarray(tuple(view["shape"]), np.dtype(view["dtype"]), base, offset, tuple(view["strides"]))


class HostMemoryPlan:
    def __init__(self, plan):
        self.plan = plan
        self.messages = plan.messages

    def render_cuda(self, src_view, dst_view, stream, host_access):
        if stream != EXPECTED_STREAM:
            raise RuntimeError(f"the node passed stream {stream:#x}, not the host's {EXPECTED_STREAM:#x}")
        # As emotionedit.node.gpu does: the host's memory is read and written only with the node's leave.
        with using_host_memory(host_access):
            src = host_view(src_view).copy()
        dst = np.empty(tuple(dst_view["shape"]), np.dtype(dst_view["dtype"]))
        self.plan.render(src, dst)
        with using_host_memory(host_access):
            host_view(dst_view)[...] = dst


def prepare(request):
    if not request["cuda"]:
        raise RuntimeError("expected a CUDA render")
    return HostMemoryPlan(real_prepare(request))
