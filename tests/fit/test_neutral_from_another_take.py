"""A shot with no resting frame (crying throughout) takes the actor's resting face from another take."""

from __future__ import annotations

import numpy as np
import pytest

from emotionedit.edit import EditParams, Emotion
from emotionedit.edit.expression import ExpressionEditor
from emotionedit.errors import UserError
from emotionedit.fit import fit_shot
from emotionedit.fit import topology as topo
from emotionedit.fit.basis import AUS, build_basis
from emotionedit.fit.pose import vectors_to_plate

# Sad brows held through the whole shot: inner brows raised (AU 1) and drawn together (AU 4).
CRYING = {1: 1.5, 4: 0.8}


def _crying(analysis) -> np.ndarray:
    """franck's real talking landmarks with sad brows added to every frame (through each frame's pose)."""
    fit = analysis.fit
    basis = build_basis(fit.neutral).sum(axis=1)
    brows = sum(weight * basis[AUS.index(au)] for au, weight in CRYING.items())
    moved = vectors_to_plate(np.broadcast_to(brows, (len(fit.scale), *brows.shape)), fit.scale, fit.rotation)
    return analysis.track.landmarks.astype(np.float64) + moved


def test_a_shot_that_cries_throughout_gets_its_resting_face_from_another_take(talking, smiling):
    _, shot = talking
    _, other_take = smiling  # franck laughing, 2 min later: his brows at rest
    landmarks, found = _crying(shot), shot.track.found
    au1 = AUS.index(1)

    alone = fit_shot(landmarks, found)
    # Estimated from the shot alone, the resting face keeps the crying brows: nothing reads as sad.
    assert np.nanmean(alone.coefficients[:, au1]) < 0.3

    helped = fit_shot(landmarks, found, neutral_reference=other_take.fit.neutral)
    assert helped.neutral_match < 0.03 and len(helped.neutral_frames) == 0
    # With his real resting face, the held brows read as what they are: AU 1 active in every frame.
    assert np.nanmean(helped.coefficients[:, au1]) > 0.8

    # So "neutral" (and replace) can take the crying out: the edit moves the brows back where they rest.
    editor = ExpressionEditor(helped.neutral)
    frame = int(np.flatnonzero(helped.flags == 0)[0])
    undo = editor.delta(helped.coefficients[frame], EditParams(emotion=Emotion.NEUTRAL, intensity=1.0))
    basis = build_basis(helped.neutral).sum(axis=1)
    added = sum(weight * basis[AUS.index(au)] for au, weight in CRYING.items())
    brows = list(topo.RIGHT_BROW + topo.LEFT_BROW)
    a, b = undo[brows, :2].ravel(), -added[brows, :2].ravel()
    assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) > 0.8
    assert 0.6 < np.linalg.norm(a) / np.linalg.norm(b) < 1.4


def test_a_resting_face_that_is_not_this_face_is_refused(talking):
    _, shot = talking
    stranger = shot.fit.neutral.copy()
    stranger[:, 1] *= 1.25  # a much longer face: the skull's points no longer fit
    with pytest.raises(UserError, match="does not fit this shot's face"):
        fit_shot(shot.track.landmarks, shot.track.found, neutral_reference=stranger)
    with pytest.raises(UserError, match="not both"):
        fit_shot(shot.track.landmarks, shot.track.found, neutral_frames=np.array([0]),
                 neutral_reference=shot.fit.neutral)
