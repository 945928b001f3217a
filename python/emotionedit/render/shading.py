"""The face's shading gain as the pixel step takes it: the skin detail's on its coarse grid, the mouth corridor's as a
plane over its small rectangle.

Both are linear-light multipliers of the colour channels, unfaded: the kernels fade them with the matte pixel by
pixel (``cuda/rule.h``'s ``faded_gain``). The skin detail's gain holds nothing finer than its grid of at most 64
pixels per IOD (:mod:`.detail`), so the plan keeps it there and the kernels interpolate it per pixel
(``grid_gain``: the grid laid over the face's region as cv2.resize lays a small image over a large one, as the
field's grid is). Spelled out at a 4K face's resolution it was three planes of 1500 x 1200 floats, 22 MB that went
through host memory to a GPU every frame. The corridor's shading is a plane over a few hundred pixels of the
mouth. Where both are given, a pixel's gain is the grid's times the plane's, in that order in every kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from .detail import kernel_gain
from .field import Region, grid_scales


@dataclass(frozen=True)
class Shading:
    """over, grid: the grid's region and the (ny, nx, C) float32 gains laid over it (None: no grid); rect, plane: a
    rectangle of plate pixels and its (h, w) or (h, w, 3) float32 gains (None: no plane). C is 1 (one gain for the
    colour channels) or 3 (red, green, blue)."""

    over: Region | None = None
    grid: np.ndarray | None = None
    rect: Region | None = None
    plane: np.ndarray | None = None

    @classmethod
    def of(cls, shading: Shading | tuple[Region, np.ndarray] | None) -> Shading | None:
        """A Shading as it is, or a (rectangle, gain plane) pair as one with that plane alone; None for None."""
        if shading is None or isinstance(shading, Shading):
            return shading
        rect, plane = shading
        return cls(rect=rect, plane=np.asarray(plane, np.float32))

    @property
    def per_colour(self) -> bool:
        """Whether either part has a gain per colour channel."""
        return any(part is not None and part.ndim == 3 and part.shape[2] == 3 for part in (self.grid, self.plane))

    def grid_arguments(self) -> tuple | None:
        """The grid as the compiled kernel takes it: (grid, scale_x, scale_y, x0, y0) (scales in cells per pixel,
        float32 as the kernels compute with them), or None."""
        if self.grid is None:
            return None
        return (np.ascontiguousarray(self.grid, np.float32), *grid_scales(self.grid, self.over), self.over.x0,
                self.over.y0)

    def for_plate(self, channels: int, integer: bool) -> Shading:
        """The gains a plate of ``channels`` channels takes (:func:`.detail.kernel_gain`, each part): one gain, the
        colours' luminance, for a grey plate; in the display encoding of integer plates. The grid's are taken on the
        grid."""
        grid = None if self.grid is None else kernel_gain(self.grid, channels, integer)
        if grid is not None and grid.ndim == 2:
            grid = grid[..., None]
        plane = None if self.plane is None else kernel_gain(self.plane, channels, integer)
        return replace(self, grid=grid, plane=plane)

    def cropped(self, part: Region) -> Shading | None:
        """The same shading for the pixels of ``part`` alone: the plane cut to it (the grid, addressed by plate
        pixel, stays whole); None where nothing is left."""
        plane, rect = self.plane, self.rect
        if plane is not None:
            rect = rect.intersection(part)
            plane = None if rect.empty else plane[rect.within(self.rect)]
            rect = None if plane is None else rect
        if plane is None and self.grid is None:
            return None
        return replace(self, rect=rect, plane=plane)

    def gains(self, region: Region) -> np.ndarray:
        """The gains at every pixel of ``region``, (h, w, C) float32 (C 3 if either part has one per colour, else
        1), as the kernels compute them: the grid interpolated, times the plane where it lies."""
        from . import _resample

        channels = 3 if self.per_colour else 1
        gains = np.ones((region.height, region.width, channels), np.float32)
        if self.grid is not None:
            gains *= _resample.expand_gain(self.grid_arguments(), region.x0, region.y0, region.height, region.width,
                                           max(1, cv2.getNumThreads()))
        if self.plane is not None:
            inside = self.rect.intersection(region)
            if not inside.empty:
                plane = self.plane[inside.within(self.rect)]
                gains[inside.within(region)] *= plane if plane.ndim == 3 else plane[..., None]
        return gains

