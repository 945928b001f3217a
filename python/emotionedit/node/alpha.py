"""Unpremultiplied (straight) alpha: warp colour premultiplied, so hidden colour never bleeds.

The warp resamples every channel bilinearly. With premultiplied RGBA (OFX's usual form)
or opaque pixels that is right. With straight alpha (``OfxImageAlphaUnPremultiplied``) a
pixel's colour means nothing where its alpha is 0, yet bilinear sampling would mix it into
its visible neighbours. So the node premultiplies colour by alpha before the warp and
divides it out after, wherever the warp changed a pixel and its alpha is above 0 (where
it is 0 the colour is 0). Pixels the edit does not reach, and frames whose alpha is opaque
over every pixel the warp reads (the plan's read rectangle), are rendered exactly as the
command line renders them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: The OFX premultiplication of images with straight alpha.
UNPREMULTIPLIED = "OfxImageAlphaUnPremultiplied"


def full_value(dtype: np.dtype) -> float:
    """The value of alpha 1 in ``dtype``: 255, 65535, or 1.0 for half and float."""
    return float(np.iinfo(dtype).max) if dtype.kind == "u" else 1.0


def render_straight_alpha(apply: Callable[[np.ndarray, np.ndarray], object], dst: np.ndarray, src: np.ndarray,
                          at: tuple[int, int] = (0, 0)) -> None:
    """Render RGBA pixels with straight alpha through ``apply`` as premultiplied colour.

    apply(out, plate): the engine's pixel step (``FramePlan.apply``, or a whole-plate render with
    ``out`` and ``plate`` of one shape): writes every pixel of ``out`` (``dst``'s shape) from
    ``plate`` (``src``'s shape); called with float32 arrays, colour premultiplied.
    dst: (h, w, 4) the output pixels to write; src: (H, W, 4) the source pixels ``apply`` reads;
    ``dst``'s top-left pixel is ``src[at]`` (row, column). Both uint8, uint16, float16 or float32,
    colour and alpha in the dtype's range (0..255, 0..65535, 0..1 for float; float values may pass 1).
    Where alpha is opaque over all of ``src`` nothing can bleed: ``apply(dst, src)`` on the pixels as
    they are, the command line's render. Integer results are rounded to the nearest value and clipped
    to the dtype's range.
    """
    if src.shape[2] != 4:
        raise ValueError(f"straight alpha needs RGBA pixels, got {src.shape[2]} channels")
    full = full_value(src.dtype)
    if (src[..., 3] == full).all():  # opaque: nothing can bleed, and the plain render is the command line's
        apply(dst, src)
        return
    plate = src.astype(np.float32)
    plate[..., :3] *= plate[..., 3:] / np.float32(full)
    out = np.empty(dst.shape, np.float32)
    apply(out, plate)
    inside = (slice(at[0], at[0] + dst.shape[0]), slice(at[1], at[1] + dst.shape[1]))
    before = plate[inside]
    same = out == before
    if plate.dtype.kind == "f":
        same |= np.isnan(out) & np.isnan(before)  # a plate's NaN stays where it is (see render.pixels)
    changed = ~same.all(axis=2)
    dst[...] = src[inside]
    if not changed.any():
        return
    edited = out[changed]
    alpha = edited[:, 3:] / np.float32(full)
    edited[:, :3] = np.divide(edited[:, :3], alpha, out=np.zeros_like(edited[:, :3]), where=alpha > 0)
    if dst.dtype.kind == "u":
        edited = np.clip(np.rint(edited), 0, full)
    dst[changed] = edited.astype(dst.dtype)
