"""The pixel step on a torch device: the compiled kernel's rule in torch operations, for frames that live on a GPU.

A frame on the device is rendered where it lies: the plan is made on the CPU as for any frame (it reads no
pixels), its arrays (the field's displacements, the matte, the shading gain: a few bytes a face pixel) go to
the device, and the device resamples the face and writes the output. ``render --device cuda`` uploads each
face's rectangle once and downloads it once (:func:`render_host_face`; the rest of the frame is copied on the
CPU while the frame is planned); an OFX host's device images (CuPy views,
through DLPack without a copy) are rendered here in place by node/gpu.py (:func:`render_window_on_device`).

The rule is :mod:`._resample`'s (``cpp/engine/resample.cpp``): the edited pixel samples itself plus the
matte times the displacement; Keys' cubic (a = -0.75) at the exact position, borders replicated, rows then
columns; clamped to the 2x2 pixels around the sample; a footprint or output pixel holding NaN or inf keeps
the output pixel; stored in the plate's type (integers rounded half to even and saturated, half floats to
nearest even); then the colour multiplied by the gain. Every step is an elementwise float32 operation in the
kernel's order (torch fuses none of them into an FMA), so on the CPU this path gives the kernel's bits,
which the tests check, and on a GPU the same bits wherever the device rounds as IEEE float32 does.

On a GPU with CuPy the step is one kernel launch (:mod:`.gpu_kernel`, ``cuda/resample.cu``, whose code CI runs
against the CPU kernel); the torch operations below are the path without CuPy, and the device-generic code that
CI runs on torch's CPU device. They compute the face's edited pixels (gathered by index on a CPU, every pixel of
the face's region on a GPU); the rest of the output is the plate's own, copied on the device. Nothing waits for
the device (the indices are found on the CPU, where the plan is), so an OpenFX host's render only queues work on
the host's stream.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import UserError
from . import gpu_kernel
from .field import Region
from .frame import ZERO, FramePlan, _WarpPlan
from .overlay import Overlay
from .pixels import Resampling
from .shading import Shading

_A = -0.75  # Keys' cubic, as the kernel; every constant below is exact in float32
#: Device types on which every pixel of the face's region is computed (see :func:`resample_on_device`).
DENSE_DEVICES = ("cuda",)
#: Pixels computed at once (a band of the face's rows, or of its gathered pixels): the temporaries, about 300 bytes
#: a pixel, stay near 150 MB of device memory whatever the face's size (a 4K face is 1.8 M pixels: four bands).
CHUNK_PIXELS = 1 << 19


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


def _values(bits: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """float32 values of pixels gathered through :func:`_bits` (uint16 read back from its int16 view)."""
    if dtype == torch.uint16:
        return (bits.to(torch.int32) & 0xFFFF).to(torch.float32)
    return bits.to(torch.float32)


def _stored(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Quantised float32 values as the bits of :func:`_bits`'s view of a ``dtype`` plate (exact for every type)."""
    if dtype == torch.uint16:
        return values.to(torch.int32).to(torch.int16)  # 0..65535 wraps to the same 16 bits
    return values.to(dtype)


def to_device(pixels: np.ndarray, device: torch.device) -> torch.Tensor:
    """A host image on the device (uint16 travels as its int16 bits: a GPU's torch does not copy uint16)."""
    if pixels.dtype == np.uint16:
        return torch.from_numpy(np.ascontiguousarray(pixels).view(np.int16)).to(device).view(torch.uint16)
    return torch.from_numpy(np.ascontiguousarray(pixels)).to(device)


def to_host(pixels: torch.Tensor) -> np.ndarray:
    """A device image in host memory, as :func:`to_device` sends it."""
    if pixels.dtype == torch.uint16:
        return pixels.view(torch.int16).cpu().numpy().view(np.uint16)
    return pixels.cpu().numpy()


def _bits(pixels: torch.Tensor) -> torch.Tensor:
    """A view of the same bits that torch's where, indexing and copies implement on every device (uint16: int16)."""
    return pixels.view(torch.int16) if pixels.dtype == torch.uint16 else pixels


def resample_on_device(target: torch.Tensor, window: torch.Tensor, plan: Resampling,
                       shading: Shading | tuple | None = None, flipped: bool = False,
                       dense: bool | None = None) -> torch.Tensor:
    """:func:`.pixels.resample_into` on tensors of one device: the warped face into ``target`` where
    ``plan.matte > 0``, then the shading. target: (h, w, C) over ``plan.region``, holding the source's
    pixels there; window: (h', w', C) the source over ``plan.window``, same dtype, not overlapping
    ``target``. flipped: both tensors hold their rows bottom-up (an OFX image in memory order: torch has
    no negative strides); the pixels computed are the same. Returns the count of edited pixels kept
    because of NaN or inf, as a tensor on the device (reading it waits for the device).

    dense: compute every pixel of the region, keeping those outside the matte (a GPU's way: the plan's arrays
    are uploaded whole and nothing is gathered on the CPU), rather than only the matte's pixels, whose indices,
    matte values and displacements the CPU gathers first (less work where cores are few); the pixels are the
    same. None: dense on the device types of :data:`DENSE_DEVICES` (a GPU). Either way the pixels are computed
    :data:`CHUNK_PIXELS` at a time, which bounds the device memory a frame takes, and nothing here waits for the
    device: the work only queues on the current stream.
    """
    device = target.device
    region = plan.region
    if dense is not False and gpu_kernel.applies(target):  # a GPU with CuPy: the whole step in one launch
        return gpu_kernel.resample(target, window, plan, shading, flipped)
    if dense is None:
        dense = device.type in DENSE_DEVICES
    skipped = torch.zeros((), dtype=torch.int64, device=device)
    gains = _host_gains(shading, region, target)  # the torch path spells the shading out (it has no grid step)
    if dense:
        band = max(1, CHUNK_PIXELS // max(region.width, 1))
        for top in range(0, region.height, band):
            bottom = min(top + band, region.height)
            m = _upload(plan.matte[top:bottom], device).reshape(-1)
            offset_x, offset_y = (_upload(o[top:bottom], device).reshape(-1) for o in (plan.offset_x, plan.offset_y))
            grid_rows, grid_cols = torch.meshgrid(torch.arange(top, bottom, device=device),
                                                  torch.arange(region.width, device=device), indexing="ij")
            g = None if gains is None else _upload(gains[top:bottom], device).reshape(-1, gains.shape[2])
            written, kept = _resample_pixels(target, window, plan, g, flipped, grid_rows.reshape(-1),
                                             grid_cols.reshape(-1), m, offset_x, offset_y, m > 0)
            written = written.reshape(bottom - top, region.width, -1)
            _bits(_rows(target, top, bottom, flipped)).copy_(written.flip(0) if flipped else written)
            skipped += kept
        return skipped
    found = np.nonzero(plan.matte > 0)
    for start in range(0, found[0].size, CHUNK_PIXELS):
        at_rows, at_cols = found[0][start : start + CHUNK_PIXELS], found[1][start : start + CHUNK_PIXELS]
        rows, cols = _upload(at_rows, device), _upload(at_cols, device)
        g = None if gains is None else _upload(gains[at_rows, at_cols], device)
        written, kept = _resample_pixels(target, window, plan, g, flipped, rows, cols,
                                         _upload(plan.matte[at_rows, at_cols], device),
                                         _upload(plan.offset_x[at_rows, at_cols], device),
                                         _upload(plan.offset_y[at_rows, at_cols], device), None)
        _bits(target)[((target.shape[0] - 1) - rows) if flipped else rows, cols] = written
        skipped += kept
    return skipped


def _resample_pixels(target: torch.Tensor, window: torch.Tensor, plan: Resampling, gains: torch.Tensor | None,
                     flipped: bool, rows: torch.Tensor, cols: torch.Tensor, m: torch.Tensor, offset_x: torch.Tensor,
                     offset_y: torch.Tensor, inside: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The output bits of the region's pixels at ``rows``, ``cols`` (region-relative, picture order) with their
    matte and displacements, and how many of them kept their own value because of NaN or inf. gains: their shading
    gains, (n, colour) (:func:`_host_gains`; None: none). inside: which of them the matte covers (None: all, the
    gathered way); the others keep their own bits."""
    region = plan.region
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
        if flipped:
            tap_row = (height - 1) - tap_row
        taps = [_values(_bits(window)[tap_row, c], window.dtype) for c in tap_cols]
        sums.append(((wx[0][:, None] * taps[0] + wx[1][:, None] * taps[1]) + wx[2][:, None] * taps[2])
                    + wx[3][:, None] * taps[3])
        if r in (1, 2):
            corner += [taps[1], taps[2]]
    value = ((wy[0][:, None] * sums[0] + wy[1][:, None] * sums[1]) + wy[2][:, None] * sums[2]) \
        + wy[3][:, None] * sums[3]
    low = torch.minimum(torch.minimum(corner[0], corner[1]), torch.minimum(corner[2], corner[3]))
    high = torch.maximum(torch.maximum(corner[0], corner[1]), torch.maximum(corner[2], corner[3]))
    at = ((target.shape[0] - 1) - rows) if flipped else rows  # the pixels' rows in target's memory
    own = _bits(target)[at, cols]
    own_values = _values(own, target.dtype)
    clean = torch.isfinite(x) & torch.isfinite(y) & torch.isfinite(value).all(dim=1)
    if target.is_floating_point():
        clean &= torch.isfinite(own_values).all(dim=1)
    if inside is not None:
        clean &= inside  # outside the matte: the pixel keeps its own bits, as the gathered way never visits it
    sampled = _quantised(torch.minimum(torch.maximum(value, low), high), target.dtype)
    values = torch.where(clean[:, None], sampled, own_values)
    changed = clean.clone()
    if gains is not None:
        colour = min(3, values.shape[1])
        shaded = gains != 1.0
        if inside is not None:
            shaded &= inside[:, None]
        faded = 1.0 + m[:, None] * (gains - 1.0)  # rule.h's faded_gain: the gain faded with the matte
        scaled = _quantised(values[:, :colour] * faded, target.dtype)
        values[:, :colour] = torch.where(shaded, scaled, values[:, :colour])
        changed |= shaded.any(dim=1)
    # Pixels neither sampled nor shaded keep their own bits (a NaN's payload included).
    written = torch.where(changed[:, None], _stored(values, target.dtype), own)
    kept = ~clean if inside is None else ~clean & inside
    return written, kept.sum()


def _upload(values: np.ndarray, device: torch.device) -> torch.Tensor:
    """A plan's host array on the device (int indices as int64, the rest float32). To a GPU through pinned memory,
    asynchronously: a copy from pageable memory waits for everything already queued on the stream (torch's
    blocking copy synchronises it), which an OpenFX host's stream must not; torch keeps the pinned buffer until
    the copy has run."""
    kind = np.int64 if values.dtype.kind in "iu" else np.float32
    values = np.ascontiguousarray(values, dtype=kind)
    host = torch.from_numpy(values if values.flags.writeable else values.copy())  # torch wants writable arrays
    if device.type == "cuda":
        return host.pin_memory().to(device, non_blocking=True)
    return host.to(device)


def _host_gains(shading: Shading | tuple | None, region: Region, target: torch.Tensor) -> np.ndarray | None:
    """The shading's gains at every pixel of ``region`` as the kernels compute them for ``target``'s plates, one a
    colour channel, (h, w, colour) float32; None without shading."""
    shading = Shading.of(shading)
    if shading is None:
        return None
    colour = min(3, target.shape[2])
    gains = shading.for_plate(target.shape[2], target.dtype in (torch.uint8, torch.uint16)).gains(region)
    return np.ascontiguousarray(np.broadcast_to(gains, (*gains.shape[:2], colour)))


def render_on_device(plan: FramePlan, dst: torch.Tensor, src: torch.Tensor) -> int:
    """:meth:`.frame.FramePlan.render_into` for (H, W, C) tensors of one device: the background (the
    source's pixels), then the edited face. ``dst`` must not share memory with ``src``. The edited output
    (what the plan of :data:`~.frame.Output.EDITED` writes) is rendered here; the check outputs (matte,
    landmarks, occlusion) are small and drawn on the CPU, so they are refused."""
    if tuple(src.shape) != plan.shape or tuple(dst.shape) != plan.shape or src.dtype != dst.dtype:
        raise ValueError(f"this plan is for {plan.shape} plates; got src {tuple(src.shape)} {src.dtype} and dst "
                         f"{tuple(dst.shape)} {dst.dtype}")
    return int(render_window_on_device(plan, dst, src, 0, 0))


def renders_on_device(plan: FramePlan) -> bool:
    """Whether :func:`render_window_on_device` renders this plan (the edited output, or a pass-through)."""
    return plan.background != ZERO and (plan.write_rect is None or isinstance(plan, _WarpPlan))


def render_window_on_device(plan: FramePlan, dst: torch.Tensor, src: torch.Tensor, row: int, column: int,
                            flipped: bool = False) -> torch.Tensor:
    """A render window of the frame on the device, as the OpenFX node's CPU render does it
    (``node.window.fill_window``, then the plan's pixel step): the source's pixels (0 where the window
    reaches past the plate), then the edited face.

    plan: the frame's plan cropped to the window. dst: (h, w, C) the window, whose top-left pixel is
    ``src[row, column]``; src: (H, W, C) the whole source, same dtype and device, not sharing memory with
    ``dst``. flipped: both hold their rows bottom-up in memory (OpenFX's order; torch has no negative
    strides), row 0 being the picture's last. Nothing here waits for the device: the work is queued on the
    current stream. Returns the count of face pixels kept because of NaN or inf (a device tensor).
    """
    if not renders_on_device(plan):
        raise ValueError("only the edited output renders on the device; render the check outputs on the CPU")
    window_region = Region(column, row, column + dst.shape[1], row + dst.shape[0])
    shown = window_region.intersection(Region(0, 0, src.shape[1], src.shape[0]))  # the plate's part of the window
    if shown != window_region:
        _bits(dst).zero_()
    if not shown.empty:
        _bits(_rows(dst, shown.y0 - row, shown.y1 - row, flipped)[:, shown.x0 - column : shown.x1 - column]).copy_(
            _bits(_rows(src, shown.y0, shown.y1, flipped)[:, shown.x0 : shown.x1]))
    if plan.write_rect is None:
        return torch.zeros((), dtype=torch.int64, device=dst.device)
    resampling = plan.resampling
    region, window = resampling.region, resampling.window
    target = _rows(dst, region.y0 - row, region.y1 - row, flipped)[:, region.x0 - column : region.x1 - column]
    samples = _rows(src, window.y0, window.y1, flipped)[:, window.x0 : window.x1]
    skipped = resample_on_device(target, samples, resampling, plan.shading, flipped)
    composite_on_device(target, (region.x0, region.y0), plan.overlay, flipped)
    return skipped


def composite_on_device(pixels: torch.Tensor, origin: tuple[int, int], overlay: Overlay | None,
                        flipped: bool = False) -> None:
    """:func:`.overlay.composite` on a tensor of one device, its rows stored bottom-up when ``flipped`` (an OpenFX
    image in memory order); the pixels are the same (integers rounded half up, as there)."""
    if overlay is None:
        return
    rect = overlay.rect
    at = _rows(pixels, rect.y0 - origin[1], rect.y1 - origin[1], flipped)[:, rect.x0 - origin[0]:rect.x1 - origin[0]]
    colours = min(3, at.shape[2])
    values = _upload(overlay.values[..., :colours], pixels.device)
    alpha = _upload(overlay.alpha[..., None], pixels.device)
    if flipped:
        values, alpha = values.flip(0), alpha.flip(0)
    bits = _bits(at)[..., :colours]
    own = _values(bits, at.dtype)
    mixed = own + alpha * (values - own)
    if at.dtype in (torch.uint8, torch.uint16):
        mixed = torch.clamp(torch.floor(mixed + 0.5), 0, 255 if at.dtype == torch.uint8 else 65535)
    clean = torch.isfinite(own).all(dim=2, keepdim=True) & (alpha > 0.0)
    bits.copy_(torch.where(clean, _stored(mixed, at.dtype), bits))


def gather_samples(pixels: torch.Tensor, rows: np.ndarray, columns: np.ndarray, flipped: bool = False) -> np.ndarray:
    """The picture's ``[rows][:, columns]`` of ``pixels`` (stored bottom-up when ``flipped``) in host memory (a few
    thousand pixels: the plate check's samples)."""
    if flipped:
        rows = pixels.shape[0] - 1 - rows
    at_rows, at_columns = (_upload(lines, pixels.device) for lines in (rows, columns))
    picked = _bits(pixels)[at_rows[:, None], at_columns[None, :]].cpu().numpy()  # the one wait: for these samples
    return picked.view(np.uint16) if pixels.dtype == torch.uint16 else picked


def _rows(pixels: torch.Tensor, top: int, bottom: int, flipped: bool) -> torch.Tensor:
    """The picture's rows [top, bottom) of ``pixels`` (stored bottom-up when ``flipped``)."""
    if flipped:
        count = pixels.shape[0]
        return pixels[count - bottom : count - top]
    return pixels[top:bottom]


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


def render_host_face(plan: FramePlan, dst_write: np.ndarray, src_read: np.ndarray, device: torch.device) -> int:
    """:meth:`.frame.FramePlan.apply` on the device for a frame in host memory, whose background the caller has
    made (``dst_write``, over the plan's ``write_rect``, already holds the source's pixels; ``src_read`` is the
    source over its ``read_rect``, which holds ``write_rect``; they may share memory). Only the face's rectangles
    cross: one upload of the read one, one download of the written one, not of the frame. Returns the count of face
    pixels kept because of NaN or inf."""
    if not renders_on_device(plan) or plan.write_rect is None:
        raise ValueError("only the edited output's face renders on the device")
    source = to_device(src_read, device)
    target = source[plan.write_rect.within(plan.read_rect)].clone()  # what dst_write holds: one upload, not two
    window = plan.resampling.window
    skipped = resample_on_device(target, source[window.within(plan.read_rect)], plan.resampling, plan.shading)
    composite_on_device(target, (plan.write_rect.x0, plan.write_rect.y0), plan.overlay)
    dst_write[...] = to_host(target)
    return int(skipped)
