"""A resting face estimated from a shot that starts in tears is flagged, and the user told how to choose another."""

from __future__ import annotations

from emotionedit import cli
from emotionedit.fit.shot import resting_doubts


def test_a_resting_face_taken_from_tears_is_doubted_for_its_eyes_and_brows(crying):
    # Her stillest mouths are in her tears: the estimate rests there, eyes shut and inner brows up.
    assert crying.fit.neutral_frames.min() < 20
    doubts = resting_doubts(crying.fit, crying.track.landmarks)
    assert len(doubts) == 2
    assert "eyes" in doubts[0] and "brows" in doubts[1]


def test_talking_and_smiling_shots_raise_no_doubt(talking, smiling, closed_smile):
    for _, analysis in (talking, smiling, closed_smile):
        assert resting_doubts(analysis.fit, analysis.track.landmarks) == []


def test_analyze_tells_the_user_which_frames_and_what_to_do(crying, capsys):
    cli._warn_resting_doubts(crying)
    said = capsys.readouterr().err
    assert "warning: the actor's resting face was estimated from frames 0-" in said
    assert "--neutral-frames" in said and "--neutral-from" in said
