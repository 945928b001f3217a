"""What a warp of the mouth's landmarks does not do by itself: lips that get thinner.

A smile stretches and thins the upper lip (FACS, AU 12), which the measured smile basis does not. The AU 12
basis is measured on franck's closed-lip smiles, where the pressed lips keep their height: on it the upper lip
grows 0.007 IOD thicker. Real smiles with the mouth open thin it: franck's laughs 0.075 IOD against 0.091
talking, the webcam actor's smile 0.091 against 0.111 (mediapipe, the upper lip's middle from its outer to its
inner edge). Edited smiles on open mouths kept a thick, red upper lip ("thick red lip ring", "rubbery lips":
blind look tests 9 and 10 on cap12 415).

Anger tightens and presses the lips (AU 23, AU 24): both red parts narrow, the lips look rolled in. The
hand-built AU 23 and 24 handles move whole regions about the lips and narrowed them by 0.003-0.007 IOD (dlib,
docs/facs.md), a change nobody sees; blind viewers named angry stills "neutral", the mouth unchanged.

Both are the same move: the lip's outer edge slides onto its inner edge, which carries speech (lip
preservation keeps the opening) and so stays, and the skin beyond the outer edge follows over a short reach,
tapering to nothing at the mouth's corners.

An open mouth's lower lip is stretched over the lower teeth, and a smile lifts it whole: on the webcam actor's
68 real open smiles its outer and inner edges both rise 0.061 IOD against his open talking frames (its red height
-0.005; dlib: -0.026). The smile basis, measured on closed smiles where the lower lip's inner edge follows the
upper lip, lifts the inner edge (+0.044) and not the outer (+0.012): on his open talking mouths made happy the
lower lip grew 0.032 taller, the "wide, red mouth" blind viewers named on cap12 415. So where the mouth is open,
what an edit adds to the lower lip's height is taken back (the outer edge follows the inner edge); where the lips
touch, the basis stands as measured.
"""

from __future__ import annotations

import numpy as np

from ..fit import topology as topo

#: How much thinner the upper lip's middle gets at AU 12 activation 1 (IOD): the real smiles' 0.016-0.020.
THIN_PER_AU12 = 0.018
#: How much thinner each lip's middle gets per unit of added AU 23 + AU 24 (IOD). No footage shows pressed lips;
#: sized from the FACS description against the lips' own height (franck's upper red lip 0.07-0.09 IOD, his lower
#: 0.14-0.15): anger's 1 + 0.5 takes about a third off his upper lip and a sixth off his lower, clearly narrower
#: red parts, not lips pressed out of sight.
THIN_PER_PRESS = 0.015
#: No lip loses more than this share of its own red height, whatever the intensity and the actor's lips (anger at
#: 2 would take 0.045 IOD, nearly all of a thin upper lip, and the outer edge would cross the inner one).
MAX_THIN_SHARE = 0.6
#: How far beyond the lip's outer edge the skin follows it (IOD, a Gaussian's width).
_REACH = 0.06
#: The inner-lip opening (IOD, at the mouth's middle) from which an open mouth's lower lip keeps its height, in
#: full from OPEN_FULL: lips that barely part (under 0.02) still press as closed ones; the teeth rigidity measure
#: calls a mouth open from 0.08 too (evaluate.rigidity.OPEN_MOUTH_APERTURE).
OPEN_FROM = 0.02
OPEN_FULL = 0.08


def _thinning_weight(face: np.ndarray, inner: tuple[int, ...], outer: tuple[int, ...],
                     outward: float) -> tuple[np.ndarray, np.ndarray]:
    """(478,) share of a lip's thinning per vertex of ``face`` ((478, 3) canonical, IOD, y down): 0 on the lip's
    inner edge, 1 on its outer edge, fading beyond it over _REACH, and tapering to 0 at the mouth's corners; and
    (478,) the lip's red height in each vertex's column (IOD).
    outward: the direction in y from the lip's inner edge to its outer edge (-1 the upper lip, +1 the lower)."""
    x, y = face[:, 0], face[:, 1]
    inner_xy = face[list(inner), :2]
    outer_xy = face[list(outer), :2]
    y_in = np.interp(x, *inner_xy[np.argsort(inner_xy[:, 0])].T)
    y_out = np.interp(x, *outer_xy[np.argsort(outer_xy[:, 0])].T)
    thickness = np.maximum(outward * (y_out - y_in), 1e-6)
    depth = outward * (y - y_in) / thickness  # 0 on the inner edge, 1 on the outer edge, > 1 beyond it
    beyond = np.exp(-(((y - y_out) / _REACH) ** 2))
    share = np.where(depth <= 1.0, np.clip(depth, 0.0, 1.0), beyond)
    left, right = face[outer[0], 0], face[outer[-1], 0]
    centre, half = 0.5 * (left + right), 0.5 * abs(right - left)
    across = np.clip(1.0 - ((x - centre) / half) ** 2, 0.0, 1.0)
    weight = share * across
    weight[list(topo.LIPS_INNER_UPPER + topo.LIPS_INNER_LOWER)] = 0.0
    return weight, thickness


class LipThinning:
    """Per-vertex shares of the lips' thinning on one actor's neutral face ((478, 3) canonical, IOD, y down)."""

    def __init__(self, face: np.ndarray):
        self.upper, self._upper_height = _thinning_weight(face, topo.LIPS_INNER_UPPER, topo.LIPS_OUTER_UPPER, -1.0)
        self.lower, self._lower_height = _thinning_weight(face, topo.LIPS_INNER_LOWER, topo.LIPS_OUTER_LOWER, 1.0)
        self._x = face[:, 0]
        self._lower_inner = np.array(sorted(topo.LIPS_INNER_LOWER, key=lambda v: face[v, 0]))
        self._lower_outer = np.array(sorted(topo.LIPS_OUTER_LOWER, key=lambda v: face[v, 0]))

    def keep_lower_lip(self, delta: np.ndarray, opening: float) -> np.ndarray:
        """``delta`` (478, 3) with what it adds to the lower lip's red height taken back: in full where the lips are
        ``opening`` IOD apart at OPEN_FULL or more, not at all under OPEN_FROM, in proportion between (see the
        module's docstring)."""
        share = float(np.clip((opening - OPEN_FROM) / (OPEN_FULL - OPEN_FROM), 0.0, 1.0))
        if share == 0.0:
            return delta
        inner = np.interp(self._x, self._x[self._lower_inner], delta[self._lower_inner, 1])
        outer = np.interp(self._x, self._x[self._lower_outer], delta[self._lower_outer, 1])
        taller = np.maximum(outer - inner, 0.0)  # y down: the outer edge dropping below the inner one's move
        out = np.array(delta, copy=True)
        out[:, 1] -= share * taller * self.lower
        return out

    def apply(self, delta: np.ndarray, au12: float, press: float) -> np.ndarray:
        """``delta`` (478, 3) with the lips thinned for an added AU 12 activation ``au12`` (the upper lip) and an
        added AU 23 + AU 24 activation ``press`` (both lips); <= 0: none."""
        au12, press = max(au12, 0.0), max(press, 0.0)
        if au12 == 0.0 and press == 0.0:
            return delta
        out = np.array(delta, copy=True)
        upper = np.minimum(au12 * THIN_PER_AU12 + press * THIN_PER_PRESS, MAX_THIN_SHARE * self._upper_height)
        lower = np.minimum(press * THIN_PER_PRESS, MAX_THIN_SHARE * self._lower_height)
        out[:, 1] += upper * self.upper  # the upper lip's outer edge goes down
        out[:, 1] -= lower * self.lower  # the lower lip's outer edge goes up
        return out
