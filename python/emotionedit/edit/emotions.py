"""Target emotions as EMFACS action-unit prototypes.

Values of :class:`Emotion` and :class:`Region` are stored in job files, analysis
files and host projects: they are append-only and never change meaning.
"""

from __future__ import annotations

import enum

import numpy as np

from ..errors import UserError
from ..fit.basis import AUS


class Emotion(enum.IntEnum):
    NEUTRAL = 0
    HAPPY = 1
    SAD = 2
    ANGRY = 3
    SURPRISED = 4
    FEARFUL = 5
    DISGUSTED = 6
    CONTEMPT = 7

    @classmethod
    def parse(cls, text: str) -> Emotion:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(e.name.lower() for e in cls)
            raise UserError(f"unknown emotion {text!r}; choose one of: {names}") from None


class Region(enum.IntEnum):
    BROWS = 0
    EYES = 1
    CHEEKS = 2
    NOSE = 3
    MOUTH = 4

    @classmethod
    def parse_set(cls, text: str) -> frozenset[Region]:
        """Parse ``all`` or a comma list such as ``brows,eyes,mouth``."""
        if text.strip() == "all":
            return frozenset(cls)
        out = set()
        for part in text.split(","):
            try:
                out.add(cls[part.strip().upper()])
            except KeyError:
                names = ", ".join(r.name.lower() for r in cls)
                raise UserError(f"unknown region {part!r}; choose from: {names}, or all") from None
        return frozenset(out)


# Both halves, or one (the subject's right, as EMFACS writes contempt "R12A+R14A").
BOTH, RIGHT = (1.0, 1.0), (1.0, 0.0)

# EMFACS prototypes: AU -> (activation, halves). Neutral has none: it removes emotion.
# AU 1, 2, 6 and 12 are measured on real faces (fit/measured.py): activation 1 is the real
# expression at the size real people make it, so happy at intensity 1 is franck's own broad
# closed-lip smile (mouth 0.18 IOD wider, corners up and out, upper lip and cheeks up, eyes
# narrowed 0.02: a genuine smile, which the webcam actor's posed smiles point the same way as).
# Surprise raises the brows in the shape and about the size of the webcam actor's real surprise, measured by
# dlib's points (independent of the tracker): his peaks (cap12 66-82, cap13 70-90) raise the inner and the
# outer brows alike (inner / outer 0.093 / 0.092 and 0.069 / 0.086 IOD). AU 1 and 2 at 1.8 each raised the
# inner brows 1.35x the outer (0.088 / 0.064): oblique, worried brows that blind viewers named sad (look
# test 10, cap12 455: "raised inner brows and pressed lips"). AU 1 at 1.5 with AU 2 at 2.0 (the most a
# measured AU takes: MAX_MEASURED_ACTIVATION) raises them level (0.074 / 0.066 and 0.071 / 0.070; the
# brow tails move about half what the middle does per unit of AU 2). bench/naturalness.py, part 3, reports
# it as brow_tilt. The lids open as far as his real surprise opens them (cap12 110-120: +0.057 IOD, AU 5
# at 1.6; at 1.0 the eyes stayed "attentive"); its jaw drop goes with lip preservation.
# Anger glares (EMFACS 4+5+7+23: the upper lids raised under lowered brows). With AU 5 at 1.2 and AU 7 at 1.0
# the lids' tightener and the brows' push on the lid left the upper lid where it was (+0.002 IOD, dlib) and lifted
# the lower one: narrowed eyes over a pressed mouth, which blind viewers named contempt (franck 3075, 6 of 6 in
# look tests 21 and 23). AU 5 at 1.8 and AU 7 at 0.4 raise the upper lid +0.013 (dlib; the engine plans +0.043,
# surprise's is +0.06) and open the eye +0.014: a stare (docs/facs.md, look test 24).
# Sadness's chin raiser (AU 17) at 0.7 pushes the lower lip's centre up about 0.02 IOD under corners drawn down
# 0.06: the pout of the FACS description, where at 0.3 the lower lip barely moved (basis revision 4).
# The hand-built AUs (4, 7, 9, 10, 14, 15, 17, 20, 23, 24, 25, 26) are
# sized from the FACS manual's descriptions against the measured ones: sad drops the lip corners
# ~0.05 IOD below the lip centre (a smile lifts them ~0.07), fear stretches the lips ~0.1 IOD
# (a smile widens them 0.2); see docs/results.md for the comparison pictures.
# Nothing here is sized to move an emotion classifier or an identity distance: those are proxies.
PROTOTYPES: dict[Emotion, dict[int, tuple[float, tuple[float, float]]]] = {
    Emotion.NEUTRAL: {},
    Emotion.HAPPY: {6: (1.0, BOTH), 12: (1.0, BOTH)},
    Emotion.SAD: {1: (2.0, BOTH), 4: (0.65, BOTH), 15: (0.8, BOTH), 17: (0.7, BOTH)},
    Emotion.ANGRY: {4: (1.0, BOTH), 5: (1.8, BOTH), 7: (0.4, BOTH), 23: (1.0, BOTH), 24: (0.5, BOTH)},
    Emotion.SURPRISED: {1: (1.5, BOTH), 2: (2.0, BOTH), 5: (1.6, BOTH), 26: (0.6, BOTH)},
    Emotion.FEARFUL: {1: (2.0, BOTH), 2: (1.2, BOTH), 4: (0.6, BOTH), 5: (1.6, BOTH), 7: (0.4, BOTH),
                      20: (0.6, BOTH), 26: (0.4, BOTH)},
    Emotion.DISGUSTED: {9: (1.0, BOTH), 10: (0.8, BOTH), 15: (0.5, BOTH), 17: (0.4, BOTH)},
    Emotion.CONTEMPT: {12: (0.4, RIGHT), 14: (1.0, RIGHT)},
}

# The AUs that carry emotion (removed by mode "replace" and by "neutral"); lips part
# and jaw drop are speech and always stay the actor's.
SPEECH_AUS = (25, 26)
# The AUs that shape the mouth, which speech moves too: while the jaw opens a syllable the fit reads the lip corners
# drawn down (AU 15 up to 0.85 on franck 743-746, 0.1 at rest) and stretched. Lip preservation keeps that motion
# where the edit lets go of the actor's own (ExpressionEditor.activation_change).
MOUTH_AUS = (10, 12, 14, 15, 17, 20, 23, 24)
EMOTIONAL_AUS = tuple(au for au in AUS if au not in SPEECH_AUS)


# Muscles that pull against each other (FACS): the lip corners' lifter and depressor, the brows' raisers
# and lowerer, the lids' raiser and tightener. An emotion that adds one lets go of the actor's other (a
# smile on a face whose corners are drawn down lifts them instead of cancelling), unless the emotion
# itself uses both (sadness raises the inner brows and lowers them at once).
ANTAGONISTS = {12: (15,), 15: (12,), 1: (4,), 2: (4,), 4: (1, 2), 5: (7,), 7: (5,)}


def antagonist_mask(target: np.ndarray) -> np.ndarray:
    """(K, 2) 1.0 for the AUs, per half, that the (K, 2) target activations work against there and that the
    emotion does not use itself. Per half: a one-sided emotion (contempt's corner on one side) lets go of
    the actor's antagonist on that side only (let go on both, the other corner rose too: 0.018-0.047 IOD,
    docs/facs.md)."""
    uses = {au for au, row in zip(AUS, target, strict=True) if row.max() > 0.0}
    mask = np.zeros((len(AUS), 2))
    for half in (0, 1):
        adds = {au for au, row in zip(AUS, target, strict=True) if row[half] > 0.0}
        against = {other for au in adds for other in ANTAGONISTS.get(au, ())} - uses
        for au in against:
            mask[AUS.index(au), half] = 1.0
    return mask


# The AUs that shape one feature together: the brows (raised by 1 inside and 2 outside, lowered by 4), the upper
# lids (raised by 5; narrowed by 7 and pushed down by the lowered brows of 4: 0.012 IOD a unit on franck, against
# AU 5's 0.033) and the lip corners (lifted by 12, drawn down by 15). Used together in one emotion they hold each
# other in balance (balanced_saturation).
FEATURES = {"brows": (1, 2, 4), "upper lids": (4, 5, 7), "lip corners": (12, 15)}


def balanced_saturation(scale: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(K,) saturation scales of the (K, 2) target's AUs, where the AUs that the target uses to shape one feature
    (FEATURES; features that share an AU count as one) share the smallest of their scales. Saturated one by one,
    sadness's inner-brow raiser stopped at intensity 1 while its lowerer kept growing, and the brows came down
    again (inner brows +0.045 IOD at 1, -0.018 at 2, franck); anger's eyes opened less past 1.4 as AU 4 and 7
    outgrew a saturated AU 5; surprise's brows went oblique (AU 1 kept rising after AU 2 stopped), the worried
    shape viewers named sad. With the balance kept, no feature turns back or changes shape as the intensity
    rises. The scales come from the actor's headroom as well: an actor who already raises the inner brows hard
    gets less of the whole brow shape, not a lowered brow."""
    uses = {au for au, row in zip(AUS, target, strict=True) if row.max() > 0.0}
    groups: list[set[int]] = []
    for aus in FEATURES.values():
        used = set(aus) & uses
        joined = [g for g in groups if g & used]
        groups = [g for g in groups if not g & used] + [used.union(*joined)]
    out = np.asarray(scale, dtype=np.float64).copy()
    for group in groups:
        if len(group) > 1:
            rows = [AUS.index(au) for au in group]
            out[rows] = out[rows].min()
    return out


def prototype_weights(emotion: Emotion) -> np.ndarray:
    """(K, 2) activations per AU and half (subject's right, left) for one emotion."""
    weights = np.zeros((len(AUS), 2))
    for au, (activation, halves) in PROTOTYPES[emotion].items():
        weights[AUS.index(au)] = activation * np.asarray(halves)
    return weights


def emotional_mask() -> np.ndarray:
    """(K,) 1.0 for the AUs that carry emotion, 0.0 for speech AUs."""
    return np.array([1.0 if au in EMOTIONAL_AUS else 0.0 for au in AUS])
