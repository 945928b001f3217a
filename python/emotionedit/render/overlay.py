"""Pixels from elsewhere laid over the warped face: a small rectangle of values and their opacity.

The pixel step resamples this frame's own pixels; what the frame never filmed (the upper teeth under a lifted lip,
:mod:`.upper_teeth`) comes from another frame of the shot, already in the plate's values. It is composited after the
warp and the shading, ``out + alpha * (values - out)`` in float32 on the colour channels (an alpha channel keeps the
warp's), and stored as the plate's sample type is (integers rounded and clipped). The opacity already holds the
editable matte, so a hand in front of the mouth keeps its pixels. Pixels that are NaN or inf keep their own value.
On a torch device the same is :func:`.device.composite_on_device`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .field import Region


@dataclass(frozen=True)
class Overlay:
    """rect: plate pixels; values: (h, w, C) float32 in the plate's values (C: the plate's channels, or its colours);
    alpha: (h, w) float32 in [0, 1]."""

    rect: Region
    values: np.ndarray
    alpha: np.ndarray

    def cropped(self, part: Region) -> Overlay | None:
        """The overlay over the pixels of ``part`` alone; None where nothing is left."""
        rect = self.rect.intersection(part)
        if rect.empty:
            return None
        if rect == self.rect:
            return self
        inner = rect.within(self.rect)
        return Overlay(rect, self.values[inner], self.alpha[inner])


def _colours(channels: int) -> int:
    return min(3, channels)


def composite(pixels: np.ndarray, origin: tuple[int, int], overlay: Overlay | None) -> None:
    """Lay ``overlay`` into ``pixels`` ((h, w, C) plate pixels whose top-left is plate pixel ``origin`` (x, y), holding
    the overlay's rectangle), in place."""
    if overlay is None:
        return
    rect = overlay.rect
    at = pixels[rect.y0 - origin[1]:rect.y1 - origin[1], rect.x0 - origin[0]:rect.x1 - origin[0]]
    colours = _colours(at.shape[2])
    own = at[..., :colours].astype(np.float32)
    alpha = overlay.alpha[..., None]
    mixed = own + alpha * (overlay.values[..., :colours] - own)
    clean = np.isfinite(own).all(axis=2, keepdims=True) & (alpha > 0.0)
    at[..., :colours] = np.where(clean, _stored(mixed, at.dtype), at[..., :colours])


def _stored(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.kind == "u":
        return np.clip(np.floor(values + 0.5), 0, np.iinfo(dtype).max).astype(dtype)
    return values.astype(dtype)
