"""Animated parameters on the command line: keyframe curves.

Syntax: a constant (``0.8``), or keys ``frame:value`` separated by commas
(``1001:0,1024:1``), optionally prefixed by the interpolation: ``linear:`` (the
default) or ``smooth:`` (ease in and out, never overshooting the keys). Before the
first key and after the last the curve holds its value, as hosts do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import UserError

INTERPOLATIONS = ("linear", "smooth")


@dataclass(frozen=True)
class Curve:
    """A keyframed value: (frame, value) keys sorted by frame, and an interpolation."""

    keys: tuple[tuple[float, float], ...]
    interpolation: str = "linear"

    @staticmethod
    def constant(value: float) -> Curve:
        return Curve(((0.0, float(value)),))

    def at(self, frame: float) -> float:
        """The value at ``frame`` (a float: hosts may ask between frames)."""
        frames = [k[0] for k in self.keys]
        values = [k[1] for k in self.keys]
        if frame <= frames[0]:
            return values[0]
        if frame >= frames[-1]:
            return values[-1]
        i = int(np.searchsorted(frames, frame, side="right")) - 1
        t = (frame - frames[i]) / (frames[i + 1] - frames[i])
        if self.interpolation == "smooth":
            t = t * t * (3.0 - 2.0 * t)
        return values[i] + t * (values[i + 1] - values[i])

    @property
    def is_constant(self) -> bool:
        return len({v for _, v in self.keys}) == 1


def parse_curve(text: str, name: str, low: float, high: float) -> Curve:
    """Parse a curve for parameter ``name`` whose values must lie in [low, high]."""
    original = text
    text = text.strip()
    interpolation = "linear"
    for prefix in INTERPOLATIONS:
        if text.startswith(prefix + ":"):
            interpolation, text = prefix, text[len(prefix) + 1 :]
    example = "'0.5', '1001:0,1024:1' or 'smooth:1001:0,1024:1'"
    try:
        if ":" not in text:
            keys = ((0.0, float(text)),)
        else:
            pairs = [part.split(":") for part in text.split(",") if part.strip()]
            keys = tuple(sorted((float(f), float(v)) for f, v in pairs))
    except ValueError:
        raise UserError(f"--{name} {original!r} is not a value or a keyframe list; examples: {example}") from None
    if not keys:
        raise UserError(f"--{name} {original!r} has no keys; examples: {example}")
    frames = [f for f, _ in keys]
    for frame in frames:
        if not np.isfinite(frame):
            raise UserError(f"--{name} {original!r} has a key at frame {frame:g}; key frames must be frame numbers, "
                            f"e.g. {example}")
    if len(set(frames)) != len(frames):
        raise UserError(f"--{name} {original!r} has two keys on one frame")
    for frame, value in keys:
        if not (low <= value <= high):
            raise UserError(f"--{name} value {value:g} at frame {frame:g} is outside {low:g}..{high:g}")
    return Curve(keys, interpolation)
