"""The pixel step on a torch device: the compiled kernel's rule in torch operations, for frames that live on a GPU.

A frame on the device is rendered where it lies: the plan is made on the CPU as for any frame (it reads no
pixels), its arrays (the field's displacements, the matte, the shading gain: a few bytes a face pixel) go to
the device, and the device resamples the face and writes the output. ``render --device cuda`` uploads each
frame once and downloads it once (:func:`render_host_frame`); an OFX host's device images (CuPy views,
through DLPack without a copy) are meant to come here too, which node/gpu.py does not do yet.

The rule is :mod:`._resample`'s (``cpp/engine/resample.cpp``): the edited pixel samples itself plus the
matte times the displacement; Keys' cubic (a = -0.75) at the exact position, borders replicated, rows then
columns; clamped to the 2x2 pixels around the sample; a footprint or output pixel holding NaN or inf keeps
the output pixel; stored in the plate's type (integers rounded half to even and saturated, half floats to
nearest even); then the colour multiplied by the gain. Every step is an elementwise float32 operation in the
kernel's order (torch fuses none of them into an FMA), so on the CPU this path gives the kernel's bits,
which the tests check, and on a GPU the same bits wherever the device rounds as IEEE float32 does.

Only the face's edited pixels are computed (gathered by index); the rest of the output is the plate's
own, copied on the device.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import UserError
from .detail import DISPLAY_GAMMA, gain_for_channels
from .frame import ZERO, FramePlan, _WarpPlan
from .pixels import Resampling

_A = -0.75  # Keys' cubic, as the kernel; every constant below is exact in float32


def _split(coords: torch.Tensor, origin: int) -> tuple[torch.Tensor, torch.Tensor]:
    """floor(c) - origin (int64) and c - floor(c); NaN and inf sample at 0 (such a pixel is kept anyway)."""
    usable = torch.where(coords - coords == 0, coords, torch.zeros_like(coords))
    limited = usable.clamp(-1.0e7, 1.0e7)
    whole = limited.to(torch.int32)  # toward 0: one less below 0
    whole = whole - (whole.to(torch.float32) > limited).to(torch.int32)
    return (whole - origin).to(torch.int64), limited - whole.to(torch.float32)


def _weights(t: torch.Tensor) -> list[torch.Tensor]:
    t1, u = t + 1.0, 1.0 - t
    w0 = ((_A * t1 - 5.0 * _A) * t1 + 8.0 * _A) * t1 - 4.0 * _A
    w1 = ((_A + 2.0) * t - (_A + 3.0)) * t * t + 1.0
    w2 = ((_A + 2.0) * u - (_A + 3.0)) * u * u + 1.0
    return [w0, w1, w2, 1.0 - w0 - w1 - w2]


def _quantised(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """float32 ``values`` as the plate's type stores them, still as float32 (exact for every type here):
    integers rounded half to even (torch.round) and saturated, half floats rounded to nearest even."""
    if dtype == torch.uint8:
        return values.round().clamp(0.0, 255.0)
    if dtype == torch.uint16:
        return values.round().clamp(0.0, 65535.0)
    if dtype == torch.float16:
        return values.to(torch.float16).to(torch.float32)
    return values


def _bits(pixels: torch.Tensor) -> torch.Tensor:
    """A view of the same bits that torch's where and index_put implement (not for uint16: int16)."""
    return pixels.view(torch.int16) if pixels.dtype == torch.uint16 else pixels


def resample_on_device(target: torch.Tensor, window: torch.Tensor, plan: Resampling,
                       shading: tuple | None = None) -> int:
    """:func:`.pixels.resample_into` on tensors of one device: the warped face into ``target`` where
    ``plan.matte > 0``, then the shading. target: (h, w, C) over ``plan.region``, holding the source's
    pixels there; window: (h', w', C) the source over ``plan.window``, same dtype, not overlapping
    ``target``. Returns the edited pixels kept because of NaN or inf."""
    device = target.device
    region = plan.region
    matte = torch.from_numpy(np.ascontiguousarray(plan.matte)).to(device)
    rows, cols = torch.nonzero(matte > 0, as_tuple=True)
    if rows.numel() == 0:
        return 0
    m = matte[rows, cols]
    offset_x = torch.from_numpy(np.ascontiguousarray(plan.offset_x)).to(device)[rows, cols]
    offset_y = torch.from_numpy(np.ascontiguousarray(plan.offset_y)).to(device)[rows, cols]
    x = (cols + region.x0).to(torch.float32) + m * offset_x
    y = (rows + region.y0).to(torch.float32) + m * offset_y
    ix, tx = _split(x, plan.window.x0)
    iy, ty = _split(y, plan.window.y0)
    wx, wy = _weights(tx), _weights(ty)
    height, width = window.shape[:2]
    tap_cols = [(ix + (k - 1)).clamp(0, width - 1) for k in range(4)]
    sums, corner = [], []
    for r in range(4):
        tap_row = (iy + (r - 1)).clamp(0, height - 1)
        taps = [window[tap_row, c].to(torch.float32) for c in tap_cols]
        sums.append(((wx[0][:, None] * taps[0] + wx[1][:, None] * taps[1]) + wx[2][:, None] * taps[2])
                    + wx[3][:, None] * taps[3])
        if r in (1, 2):
            corner += [taps[1], taps[2]]
    value = ((wy[0][:, None] * sums[0] + wy[1][:, None] * sums[1]) + wy[2][:, None] * sums[2]) \
        + wy[3][:, None] * sums[3]
    low = torch.minimum(torch.minimum(corner[0], corner[1]), torch.minimum(corner[2], corner[3]))
    high = torch.maximum(torch.maximum(corner[0], corner[1]), torch.maximum(corner[2], corner[3]))
    own = target[rows, cols]
    own_values = own.to(torch.float32)
    clean = torch.isfinite(x) & torch.isfinite(y) & torch.isfinite(value).all(dim=1)
    if own.is_floating_point():
        clean &= torch.isfinite(own_values).all(dim=1)
    sampled = _quantised(torch.minimum(torch.maximum(value, low), high), target.dtype)
    values = torch.where(clean[:, None], sampled, own_values)
    changed = clean.clone()
    if shading is not None:
        colour = min(3, values.shape[1])
        g = _gain_at(rows, cols, region, shading, target.dtype, colour)  # (n, colour)
        shaded = g != 1.0
        scaled = _quantised(values[:, :colour] * g, target.dtype)
        values[:, :colour] = torch.where(shaded, scaled, values[:, :colour])
        changed |= shaded.any(dim=1)
    # Pixels neither sampled nor shaded keep their own bits (a NaN's payload included).
    written = torch.where(changed[:, None], _bits(values.to(target.dtype)), _bits(own))
    _bits(target)[rows, cols] = written
    return int((~clean).sum())


def _gain_at(rows: torch.Tensor, cols: torch.Tensor, region, shading: tuple, dtype: torch.dtype,
             colour: int) -> torch.Tensor:
    """The shading gain of each colour channel at the edited pixels, (n, colour) (integer plates: in their display
    encoding; a single gain repeated, a per-channel gain's luminance for grey plates); 1 outside its rectangle."""
    rect, gain = shading
    gain = gain_for_channels(gain, colour)
    if dtype in (torch.uint8, torch.uint16):
        gain = np.power(gain, np.float32(1.0 / DISPLAY_GAMMA))
    gain = torch.from_numpy(np.ascontiguousarray(gain, dtype=np.float32)).to(rows.device)
    gy, gx = rows - (rect.y0 - region.y0), cols - (rect.x0 - region.x0)
    inside = (gy >= 0) & (gy < gain.shape[0]) & (gx >= 0) & (gx < gain.shape[1])
    g = torch.ones((rows.shape[0], colour), dtype=torch.float32, device=rows.device)
    g[inside] = gain[gy[inside], gx[inside]].expand(-1, colour)
    return g


def render_on_device(plan: FramePlan, dst: torch.Tensor, src: torch.Tensor) -> int:
    """:meth:`.frame.FramePlan.render_into` for (H, W, C) tensors of one device: the background (the
    source's pixels, or 0), then the edited face. ``dst`` must not share memory with ``src``. The edited
    output (what the plan of :data:`~.frame.Output.EDITED` writes) is rendered here; the check outputs
    (matte, landmarks, occlusion) are small and drawn on the CPU, so they are refused."""
    if tuple(src.shape) != plan.shape or tuple(dst.shape) != plan.shape or src.dtype != dst.dtype:
        raise ValueError(f"this plan is for {plan.shape} plates; got src {tuple(src.shape)} {src.dtype} and dst "
                         f"{tuple(dst.shape)} {dst.dtype}")
    if plan.background == ZERO or (plan.write_rect is not None and not isinstance(plan, _WarpPlan)):
        raise ValueError("only the edited output renders on the device; render the check outputs on the CPU")
    dst.copy_(src)
    if plan.write_rect is None:
        return 0
    resampling = plan.resampling
    region, window = resampling.region, resampling.window
    target = dst[region.y0 : region.y1, region.x0 : region.x1]
    return resample_on_device(target, src[window.y0 : window.y1, window.x0 : window.x1], resampling, plan.shading)


def choose_device(name: str) -> torch.device | None:
    """The device a render asks for: None for "cpu" (the compiled kernel), a CUDA device for "cuda" (or for
    "auto" when torch sees one). Refuses "cuda" without a usable GPU, saying why."""
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return None
    if name not in ("cuda", "auto"):
        raise UserError(f"unknown device {name!r}; choose cpu, cuda or auto")
    if not torch.cuda.is_available():
        raise UserError(f"--device cuda: this torch ({torch.__version__}) sees no CUDA GPU; render on the CPU "
                        "(--device cpu) or install a CUDA build of torch on a machine with an NVIDIA GPU")
    return torch.device("cuda")


def render_host_frame(plan: FramePlan, dst: np.ndarray, src: np.ndarray, device: torch.device) -> int:
    """:func:`render_on_device` for frames in host memory: one upload, one download."""
    on_device = torch.from_numpy(np.ascontiguousarray(src)).to(device)
    out = torch.empty_like(on_device)
    skipped = render_on_device(plan, out, on_device)
    dst[...] = out.cpu().numpy()
    return skipped
