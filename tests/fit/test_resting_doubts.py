"""The resting face is chosen where the eyes are open and the brows down; one taken from tears is flagged, and the
user told how to choose another."""

from __future__ import annotations

import numpy as np

from emotionedit import cli
from emotionedit.fit import shot
from emotionedit.fit.shot import looks_at_rest, resting_doubts

TEARS = 181  # her frames 0-180 are tears (eyes shut, hands before her face)


def test_her_resting_face_is_not_taken_from_her_tears(crying):
    # Her stillest mouths are in her tears: by the mouth alone 88 % of the chosen frames were tears, eyes shut
    # and inner brows up. With closed eyes and raised brows kept out it comes from her calm and smiling frames.
    chosen = crying.fit.neutral_frames
    assert np.mean(chosen < TEARS) < 0.05
    assert resting_doubts(crying.fit, crying.track.landmarks) == []


def test_a_frame_is_at_rest_with_its_eyes_open_and_its_brows_down():
    eyes = np.array([0.30, 0.31, 0.29, 0.30, 0.20, 0.30])  # a blink or tears: 0.65 of the open eyes
    brows = np.array([0.30, 0.30, 0.31, 0.35, 0.30, 0.30])  # raised: 0.05 above the lowered brows
    np.testing.assert_array_equal(looks_at_rest(np.stack([eyes, brows], axis=1)),
                                  [True, True, True, False, False, True])


def test_where_few_frames_look_at_rest_all_of_them_are_taken_first(crying, monkeypatch):
    """Asked for more frames than look at rest, the choice takes every one that does and makes up the rest with
    the stillest mouths of the others (it once fell back to the mouths alone: her tears)."""
    monkeypatch.setattr(shot, "NEUTRAL_SHARE", 0.9)
    landmarks, found = crying.track.landmarks, crying.track.found
    fit = shot.fit_shot(landmarks, found)
    usable = np.flatnonzero(fit.usable)
    faces = shot.to_canonical(landmarks[usable].astype(np.float64), fit.scale[usable], fit.rotation[usable],
                              fit.translation[usable])
    at_rest = usable[looks_at_rest(np.stack(shot._eyes_and_brows(faces), axis=1))]
    assert 0 < len(at_rest) < len(fit.neutral_frames)
    assert set(at_rest) <= set(fit.neutral_frames)


def test_a_resting_face_taken_from_tears_is_doubted_for_its_eyes_and_brows(crying_at_rest_in_tears):
    analysis = crying_at_rest_in_tears
    doubts = resting_doubts(analysis.fit, analysis.track.landmarks)
    assert len(doubts) == 2
    assert "eyes" in doubts[0] and "brows" in doubts[1]


def test_a_shot_with_no_resting_frame_is_doubted(crying):
    """Her frames 0-220 alone: tears, then sadness with her eyes open, no frame at rest. Against the shot's medians
    her shut eyes were the mark and nothing was said; against the moments her eyes are open and her brows lowered,
    the estimate is reported."""
    landmarks, found = crying.track.landmarks[:221], crying.track.found[:221]
    fit = shot.fit_shot(landmarks, found)
    doubts = resting_doubts(fit, landmarks)
    assert len(doubts) == 2 and "eyes" in doubts[0] and "brows" in doubts[1]


def test_talking_and_smiling_shots_raise_no_doubt(talking, smiling, closed_smile):
    for _, analysis in (talking, smiling, closed_smile):
        assert resting_doubts(analysis.fit, analysis.track.landmarks) == []


def test_analyze_tells_the_user_which_frames_and_what_to_do(crying_at_rest_in_tears, capsys):
    cli._warn_resting_doubts(crying_at_rest_in_tears)
    said = capsys.readouterr().err
    assert "warning: the actor's resting face was estimated from frames 0-15" in said
    assert "--neutral-frames" in said and "--neutral-from" in said
