"""Render windows: the host asks for part of the output; the engine edits the face's pixels in it.

The output's render window is the source's pixels (the plain copy: everything the edit does not
change), or 0 for the matte output, and transparent black wherever the window reaches past the
source, as OFX hosts expect. In-process the C++ node makes that copy itself; the engine server
and CUDA renders (whole source in, window out) make it here. The engine then writes only its
plan's write rectangle over it.
"""

from __future__ import annotations

import numpy as np


def fill_window(dst: np.ndarray, src: np.ndarray, row: int, column: int, zero: bool = False) -> None:
    """Fill ``dst``, the render window, with the source's pixels there (or 0 if ``zero``).

    src: (H, W, C) the whole source, top row first.
    dst: (h, w, C) the window, top row first, same dtype; its top-left pixel is ``src[row, column]``
    (either may be negative or past the plate: where the window reaches beyond the source, the
    output is 0).
    """
    height, width = dst.shape[:2]
    r0, r1 = max(row, 0), min(row + height, src.shape[0])
    c0, c1 = max(column, 0), min(column + width, src.shape[1])
    if zero or r0 >= r1 or c0 >= c1:
        dst[...] = 0
        return
    if (r0, r1, c0, c1) != (row, row + height, column, column + width):
        dst[...] = 0
    dst[r0 - row : r1 - row, c0 - column : c1 - column] = src[r0:r1, c0:c1]
