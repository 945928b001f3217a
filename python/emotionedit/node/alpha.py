"""Unpremultiplied (straight) alpha: warp colour premultiplied, so hidden colour never bleeds.

The warp resamples every channel bilinearly. With premultiplied RGBA (OFX's usual form)
or opaque pixels that is right. With straight alpha (``OfxImageAlphaUnPremultiplied``) a
pixel's colour means nothing where its alpha is 0, yet bilinear sampling would mix it into
its visible neighbours. So the node premultiplies colour by alpha before the warp and
divides it out after, wherever the warp changed a pixel and its alpha is above 0 (where
it is 0 the colour is 0). Pixels the edit does not reach, and images whose alpha is
opaque everywhere, are rendered exactly as the command line renders them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: The OFX premultiplication of images with straight alpha.
UNPREMULTIPLIED = "OfxImageAlphaUnPremultiplied"


def full_value(dtype: np.dtype) -> float:
    """The value of alpha 1 in ``dtype``: 255, 65535, or 1.0 for half and float."""
    return float(np.iinfo(dtype).max) if dtype.kind == "u" else 1.0


def render_straight_alpha(render_plate: Callable[[np.ndarray, np.ndarray], None], dst: np.ndarray,
                          src: np.ndarray) -> None:
    """Render an RGBA plate with straight alpha through ``render_plate`` as premultiplied colour.

    render_plate(out, plate): the engine's render of a whole plate into ``out`` (same shape
    and dtype as ``plate``); called with float32 arrays, colour premultiplied.
    dst, src: (H, W, 4) uint8, uint16, float16 or float32 (``dst`` may not be ``src``); colour
    and alpha in the dtype's range (0..255, 0..65535, 0..1 for float; float values may pass 1).
    Integer results are rounded to the nearest value and clipped to the dtype's range.
    """
    if src.shape[2] != 4:
        raise ValueError(f"straight alpha needs RGBA pixels, got {src.shape[2]} channels")
    full = full_value(src.dtype)
    if (src[..., 3] == full).all():  # opaque: nothing can bleed, and the plain render is the command line's
        render_plate(dst, src)
        return
    plate = src.astype(np.float32)
    plate[..., :3] *= plate[..., 3:] / np.float32(full)
    out = np.empty_like(plate)
    render_plate(out, plate)
    same = out == plate
    if plate.dtype.kind == "f":
        same |= np.isnan(out) & np.isnan(plate)  # a plate's NaN stays where it is (see render.pixels)
    changed = ~same.all(axis=2)
    dst[...] = src
    if not changed.any():
        return
    edited = out[changed]
    alpha = edited[:, 3:] / np.float32(full)
    edited[:, :3] = np.divide(edited[:, :3], alpha, out=np.zeros_like(edited[:, :3]), where=alpha > 0)
    if dst.dtype.kind == "u":
        edited = np.clip(np.rint(edited), 0, full)
    dst[changed] = edited.astype(dst.dtype)
