"""Render windows: the host may ask for part of the output while the engine needs the whole face.

The engine renders whole plates (``dst`` and ``src`` of one shape: the warp reaches
across the face). When the host's render window is the whole source, the engine
writes straight into the host's image; otherwise it renders into a private plate and
only the window is copied out, so nothing outside the window is ever written.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def render_window(render_plate: Callable[[np.ndarray], object], src: np.ndarray, dst: np.ndarray,
                  row: int, column: int) -> None:
    """Fill ``dst``, the render window, from a whole-plate render.

    render_plate(out): renders the whole plate into ``out`` ((H, W, C), ``src``'s shape and dtype).
    src: (H, W, C) the whole source, top row first.
    dst: (h, w, C) the window, top row first; its top-left pixel is ``src[row, column]``
    (either may be negative or past the plate: the window may reach beyond the source,
    where the output is transparent black, as OFX hosts expect).
    """
    height, width = dst.shape[:2]
    if (row, column) == (0, 0) and dst.shape == src.shape:
        render_plate(dst)
        return
    plate = np.empty(src.shape, src.dtype)
    render_plate(plate)
    r0, r1 = max(row, 0), min(row + height, src.shape[0])
    c0, c1 = max(column, 0), min(column + width, src.shape[1])
    if r0 >= r1 or c0 >= c1:
        dst[...] = 0
        return
    if (r0, r1, c0, c1) != (row, row + height, column, column + width):
        dst[...] = 0
    dst[r0 - row : r1 - row, c0 - column : c1 - column] = plate[r0:r1, c0:c1]
