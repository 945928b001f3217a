"""Stage 3: the edit, in the canonical face's coefficient space.

Given a frame's fitted AU coefficients and the (animated) edit parameters, build
the canonical displacement of every vertex that turns the performance into the
target emotion, with lip preservation and region switches applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from ..fit import topology as topo
from ..fit.basis import AUS, MEASURED_AUS, build_basis
from .emotions import (
    MOUTH_AUS,
    Emotion,
    Region,
    antagonist_mask,
    balanced_saturation,
    emotional_mask,
    prototype_weights,
)
from .lips import LipPreserver
from .lipshape import LipThinning
from .regions import region_weights

# Intensities above 1 exaggerate the prototype; beyond this the mesh folds over itself.
MAX_INTENSITY = 2.0
# No AU is pushed past this activation, whatever the actor already does (saturation). A measured
# AU's activation 1 is already a full real expression; the hand-built ones are sized more cautiously.
MAX_ACTIVATION = 3.0
MAX_MEASURED_ACTIVATION = 2.0
# The skin detail's strength: past 2 the creases are deeper than any real face shows.
MAX_SKIN_DETAIL = 2.0
# How much of an antagonist's speech motion the edit keeps at full lip preservation: a smile holds the corners up
# against each syllable's drop. dlib on the footage (bench/speech_corners.py --smiles), the corners' fast drop per
# unit of fast opening: talking 0.40 (franck) and 0.49 (cap12); real smiles 0.33 (franck laughing), -0.03 (his other
# laughs), -0.01 (cap12's posed smiles), a mean 0.25 of talking's (rounded up). Kept whole (session 23) the smile's
# corners fell with every open syllable as his plain speech's do (cap12 415 made happy: named happy by 2 of 12 blind
# viewers in round 45, 8 of 12 in round 44); let go of whole (before), they stood still as the jaw moved.
ANTAGONIST_SPEECH_SHARE = 0.3
MODES = ("add", "replace")


@dataclass(frozen=True)
class EditParams:
    """Edit parameters at one frame (animated values already evaluated).

    intensity: 0 (untouched) .. 1 (the full prototype) .. MAX_INTENSITY.
    blend: 0 = only ``emotion``, 1 = only ``emotion2``.
    lip_preservation: 0 = the prototype's mouth in full, 1 = the source's speech mouth shapes.
    mode: "add" puts the emotion on top of the performance; "replace" first removes
    the actor's own emotional AUs (so a smiling take can be made sad).
    skin_detail: how strongly the expression's creases, measured on real faces, shade the skin
    (:mod:`emotionedit.render.detail`): 0 = geometry only, 1 = as real faces show them, up to
    MAX_SKIN_DETAIL.
    """

    emotion: Emotion = Emotion.HAPPY
    intensity: float = 1.0
    emotion2: Emotion | None = None
    blend: float = 0.0
    lip_preservation: float = 1.0
    mode: str = "add"
    regions: frozenset[Region] = field(default_factory=lambda: frozenset(Region))
    skin_detail: float = 1.0

    def validate(self) -> EditParams:
        if not 0.0 <= self.intensity <= MAX_INTENSITY:
            raise UserError(f"intensity must be within 0..{MAX_INTENSITY}, got {self.intensity:g}")
        if not 0.0 <= self.lip_preservation <= 1.0:
            raise UserError(f"lip preservation must be within 0..1, got {self.lip_preservation:g}")
        if not 0.0 <= self.blend <= 1.0:
            raise UserError(f"blend must be within 0..1, got {self.blend:g}")
        if not 0.0 <= self.skin_detail <= MAX_SKIN_DETAIL:
            raise UserError(f"skin detail must be within 0..{MAX_SKIN_DETAIL:g}, got {self.skin_detail:g}")
        if self.mode not in MODES:
            raise UserError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        return self

    @property
    def is_identity(self) -> bool:
        """True when the edit cannot change a pixel."""
        return self.intensity == 0.0 or not self.regions


class ExpressionEditor:
    """Edits of one actor's face: the basis, lip geometry and region weights built once per shot.

    neutral: (478, 3) canonical neutral face (IOD units).
    """

    def __init__(self, neutral: np.ndarray):
        self.neutral = neutral
        self.basis = build_basis(neutral)  # (K, 2, 478, 3)
        self._full = self.basis.sum(axis=1)
        self._emotional = emotional_mask()
        self._speech = self._emotional == 0.0
        self._mouth = np.array([au in MOUTH_AUS for au in AUS])
        self._ceiling = np.array([MAX_MEASURED_ACTIVATION if au in MEASURED_AUS else MAX_ACTIVATION for au in AUS])
        self._lips = LipPreserver(neutral)
        self._thinning = LipThinning(neutral)
        self._region_cache: dict[frozenset[Region], np.ndarray] = {}

    def _regions(self, enabled: frozenset[Region]) -> np.ndarray:
        if enabled not in self._region_cache:
            self._region_cache[enabled] = region_weights(self.neutral, enabled)
        return self._region_cache[enabled]

    def activation_change(self, coefficients: np.ndarray, params: EditParams,
                          sustained: np.ndarray | None = None) -> np.ndarray:
        """(K, 2) change of AU activations per half for one frame's (K,) coefficients.

        sustained: (K,) the slow part of the actor's activations around the frame (their Gaussian smoothing over
        a second: engine.SUSTAINED_SECONDS), or None (all of it counts as held). Where the edit lets go of the
        actor's own AUs (their emotion in ``replace`` and neutral, the target's antagonists in every mode), of the
        mouth's AUs it takes that slow part only at lip preservation 1, all of them at 0: what rises and falls with
        each syllable is speech (the corners drawn down as the jaw opens). All taken, neutral at 1 froze the
        corners as the jaw moved and lifted them into a faint smile on every open syllable (franck 672-767: the
        corners' height against the opening r = 0.76 in the source, -0.33 in the edit, its spread 0.38x). Of an
        antagonist's speech it keeps ANTAGONIST_SPEECH_SHARE: the emotion's muscle holds against it."""
        i = params.intensity
        share2 = params.blend if params.emotion2 is not None else 0.0
        target = (1.0 - share2) * prototype_weights(params.emotion)
        neutral_share = (1.0 - share2) * (params.emotion == Emotion.NEUTRAL)
        if params.emotion2 is not None:
            target = target + share2 * prototype_weights(params.emotion2)
            neutral_share += share2 * (params.emotion2 == Emotion.NEUTRAL)
        removal_share = 1.0 if params.mode == "replace" else neutral_share
        current = np.nan_to_num(coefficients)
        held = antagonist_held = current
        if sustained is not None:
            w = params.lip_preservation
            speech = np.where(self._mouth, current - np.nan_to_num(sustained), 0.0)  # the mouth's fast part
            held = current - w * speech
            antagonist_held = current - w * ANTAGONIST_SPEECH_SHARE * speech
        # What goes: the actor's emotion (replace, neutral), and what pulls against the target's muscles; of the
        # mouth's, their slow part at w = 1, and of the antagonists' speech all but ANTAGONIST_SPEECH_SHARE. A smile
        # let go of all of the actor's AU 15, and its corners rose as his jaw opened where his fell: the lift
        # pulsed with speech (cap12 talking: 0.135 IOD on open frames, 0.09 on closed ones).
        removal = removal_share * self._emotional[:, None]  # (K, 1)
        antagonists = antagonist_mask(target)  # (K, 2)
        letting_go = np.maximum(removal, antagonists)
        held = np.where(antagonists > removal, antagonist_held[:, None], held[:, None])  # (K, 2)
        # Coefficients were fitted against the whole field (both halves): a half let go of loses all of its part.
        removed = min(i, 1.0) * letting_go * held  # (K, 2)
        remaining = current - removed.mean(axis=1)
        added = i * target  # (K, 2)
        # Saturation: an AU the actor already drives hard gets less of the prototype.
        added_mean = added.mean(axis=1)
        headroom = np.clip(self._ceiling - remaining, 0.0, None)
        scale = np.where(added_mean > headroom, headroom / np.maximum(added_mean, 1e-9), 1.0)
        return added * balanced_saturation(scale, target)[:, None] - removed

    def edit_change(self, coefficients: np.ndarray, params: EditParams,
                    sustained: np.ndarray | None = None) -> np.ndarray:
        """(K, 2) change of AU activations per half that the edit makes, lip preservation applied (``sustained``:
        as :meth:`activation_change`)."""
        change = self.activation_change(coefficients, params, sustained)
        # Lip preservation keeps the jaw: what the emotion adds to lips part and jaw drop goes with 1 - w.
        change[self._speech] *= 1.0 - params.lip_preservation
        return change

    def delta(self, coefficients: np.ndarray, params: EditParams) -> np.ndarray:
        """Canonical displacement (478, 3) in IOD units for one frame."""
        if params.is_identity:
            return np.zeros_like(self.neutral)
        return self.displacement(self.edit_change(coefficients, params), params, self.opening(coefficients))

    def opening(self, coefficients: np.ndarray) -> float:
        """The inner-lip opening at the mouth's middle (IOD) of the face that (K,) ``coefficients`` fit."""
        middles = [topo.INNER_LIP_UPPER_MIDDLE, topo.INNER_LIP_LOWER_MIDDLE]
        mouth = self.neutral[middles, 1] + np.nan_to_num(coefficients) @ self._full[:, middles, 1]
        return float(mouth[1] - mouth[0])

    def displacement(self, change: np.ndarray, params: EditParams, opening: float = 0.0) -> np.ndarray:
        """Canonical displacement (478, 3) in IOD units of an :meth:`edit_change` ((K, 2)) under ``params``, for
        a frame whose lips are ``opening`` IOD apart (:meth:`opening`)."""
        delta = np.einsum("ks,ksnd->nd", change, self.basis)
        delta = self._lips.apply(delta, params.lip_preservation)
        delta = self._thinning.keep_lower_lip(delta, opening)
        smile = float(np.clip(change[AUS.index(12)], 0.0, None).mean())  # what the edit adds to AU 12
        # The lips' pressing as one: what the edit adds to AU 23 and 24 together, net of what it takes of them (a
        # replace that swaps the actor's AU 23 for the prototype's AU 24 adds nothing to how pressed the lips are).
        pressing = float(np.clip(change[AUS.index(23)] + change[AUS.index(24)], 0.0, None).mean())
        delta = self._thinning.apply(delta, smile, pressing)
        return delta * self._regions(params.regions)[:, None]

    def region_weight(self, vertices: tuple[int, ...], enabled: frozenset[Region]) -> float:
        """How much of the edit the enabled regions keep around ``vertices`` (mean weight, 0..1)."""
        return float(self._regions(enabled)[list(vertices)].mean())
