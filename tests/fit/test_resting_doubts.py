"""The resting face is chosen where the eyes are open and the brows down; one taken from tears is flagged, and the
user told how to choose another."""

from __future__ import annotations

import numpy as np

from emotionedit import cli
from emotionedit.fit.shot import resting_doubts

TEARS = 181  # her frames 0-180 are tears (eyes shut, hands before her face)


def test_her_resting_face_is_not_taken_from_her_tears(crying):
    # Her stillest mouths are in her tears: by the mouth alone 88 % of the chosen frames were tears, eyes shut
    # and inner brows up. With closed eyes and raised brows kept out it comes from her calm and smiling frames.
    chosen = crying.fit.neutral_frames
    assert np.mean(chosen < TEARS) < 0.05
    assert resting_doubts(crying.fit, crying.track.landmarks) == []


def test_a_resting_face_taken_from_tears_is_doubted_for_its_eyes_and_brows(crying_at_rest_in_tears):
    analysis = crying_at_rest_in_tears
    doubts = resting_doubts(analysis.fit, analysis.track.landmarks)
    assert len(doubts) == 2
    assert "eyes" in doubts[0] and "brows" in doubts[1]


def test_talking_and_smiling_shots_raise_no_doubt(talking, smiling, closed_smile):
    for _, analysis in (talking, smiling, closed_smile):
        assert resting_doubts(analysis.fit, analysis.track.landmarks) == []


def test_analyze_tells_the_user_which_frames_and_what_to_do(crying_at_rest_in_tears, capsys):
    cli._warn_resting_doubts(crying_at_rest_in_tears)
    said = capsys.readouterr().err
    assert "warning: the actor's resting face was estimated from frames 0-15" in said
    assert "--neutral-frames" in said and "--neutral-from" in said
