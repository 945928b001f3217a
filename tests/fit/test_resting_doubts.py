"""A resting face estimated from a shot that starts in tears is flagged, and the user told how to choose another."""

from __future__ import annotations

from emotionedit import cli
from emotionedit.analysis import save
from emotionedit.fit.shot import resting_doubts
from emotionedit.node import prepare


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


def test_the_node_shows_the_same_warning_for_such_an_analysis(crying, talking, tmp_path):
    """In a host the compositor never sees analyze's output: the node says it with each frame's messages."""
    cases = ((crying, 20, (640, 360), True), (talking[1], 680, (360, 288), False))
    for k, (analysis, frame, (width, height), warned) in enumerate(cases):
        path = tmp_path / f"shot{k}.analysis.npz"
        save(analysis, path)
        params = {"emotion": 0, "intensity": 1.0, "emotion2": 0, "blend": 0.0, "lipPreservation": 1.0, "mode": 0,
                  "regionBrows": 1, "regionEyes": 1, "regionCheeks": 1, "regionNose": 1, "regionMouth": 1,
                  "smoothing": 1.5, "analysisFile": str(path), "frameOffset": 0, "face": "largest", "output": 0}
        plan = prepare({"time": float(frame), "params": params, "dtype": "uint8", "components": 3,
                        "premultiplication": "OfxImageOpaque", "src_bounds": (0, 0, width, height),
                        "dst_bounds": (0, 0, width, height), "window": (0, 0, width, height),
                        "render_scale": (1.0, 1.0), "cuda": False, "source": None})
        said = [text for level, text in plan.messages if level == "warning" and "resting face" in text]
        assert bool(said) == warned
        if warned:
            assert said[0].startswith(f"Analysis File {path}: the actor's resting face was estimated from frames 0-")

