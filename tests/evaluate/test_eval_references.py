"""The actor's own expression found where his resting frames share its head pose (agreement.find_references).

franck's first references were in other head poses than any of his resting frames: his closed smiles at 1304-1372
measured against his talking at 672-767 read the turn as expression. His clip also holds closed-lip smiles with
resting frames beside them, his head where it was; those are found here and agree with each other."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from emotionedit.cli import main
from emotionedit.evaluate import agreement as A
from file_helpers import read_frames as _frames

pytest.importorskip("dlib", reason="the evaluation needs dlib")

SCANNED = [*range(1760, 1960, 2), *range(2180, 2440, 2)]  # two of his closed-lip smiles and what surrounds them


@pytest.fixture(scope="module")
def talking(franck_path) -> np.ndarray:
    """dlib shapes of franck talking at rest, 672-767 (every 3rd frame)."""
    return A.measure_shapes(_frames(franck_path, range(672, 768, 3)))


@pytest.fixture(scope="module")
def scanned(franck_path) -> np.ndarray:
    return A.measure_shapes(_frames(franck_path, SCANNED))


def _real(rest: np.ndarray, expression: np.ndarray, reference: np.ndarray) -> np.ndarray:
    n, e = A._valid(A.align(rest, reference)), A._valid(A.align(expression, reference))
    return (e - A.pose_matched(n, e)).mean(axis=0)[A.COMPARED_POINTS]


def _pick(shapes: np.ndarray, numbers: list[int]) -> np.ndarray:
    return shapes[[SCANNED.index(n) for n in numbers]]


def test_his_closed_smiles_are_found_beside_resting_frames_in_his_pose(scanned, talking):
    found = A.find_references(scanned, SCANNED, talking, "happy")
    spans = [(item["expression"][0], item["expression"][-1]) for item in found]
    assert any(first <= 1860 <= last for first, last in spans), spans  # his smile at 1832-1880
    assert any(first <= 2350 <= last for first, last in spans), spans  # and at 2330-2370
    reference = A.reference_shape(talking)
    at_rest = {name: np.median(values) for name, values in A.features(A.align(talking, reference)).items()}
    for item in found:
        assert item["pose_gap"] <= A.POSE_GAP_LIMIT
        assert len(item["rest"]) >= A.MIN_REST_FRAMES
        first, last = item["expression"][0], item["expression"][-1]
        assert all(first - A.REST_WINDOW_FRAMES <= n < first - A.GUARD_FRAMES or
                   last + A.GUARD_FRAMES < n <= last + A.REST_WINDOW_FRAMES for n in item["rest"])
        shown = A.features(A.align(_pick(scanned, item["expression"]), reference))
        rest = A.features(A.align(_pick(scanned, item["rest"]), reference))
        for cue, threshold in A.EXPRESSION_CUES["happy"].items():
            assert np.all(shown[cue] - at_rest[cue] >= threshold)  # every smiling frame shows every cue
            assert np.all(rest[cue] - at_rest[cue] < 0.5 * threshold)  # no resting frame shows even half of one
    # At 2372 his lips part over the teeth: a laugh's dropped jaw is no reference for an edit that keeps the lips'
    # opening, so the stretch stops there unless asked otherwise.
    late = next(item for item in found if item["expression"][0] > 2300)
    assert late["expression"][-1] < 2372
    opened = A.find_references(scanned, SCANNED, talking, "happy", same_opening=False, gap_limit=100.0)
    assert any(item["expression"][0] <= 2350 and item["expression"][-1] > 2380 for item in opened)


def test_too_few_resting_frames_or_too_short_a_smile_is_no_reference(scanned, talking):
    assert A.find_references(scanned, SCANNED, talking, "happy", window=A.GUARD_FRAMES + 6) == []
    assert A.find_references(scanned, SCANNED, talking, "happy", min_run=200) == []


def test_a_smile_whose_resting_frames_are_turned_otherwise_is_left_out(franck_path, talking):
    """His closed smiles at 1302-1378 have resting frames within reach only in other head poses (16x further in pose
    than resting frames lie from each other): no reference, unless the limit is lifted."""
    numbers = list(range(1140, 1541, 2))
    shapes = A.measure_shapes(_frames(franck_path, numbers))
    assert A.find_references(shapes, numbers, talking, "happy", same_opening=False) == []
    lifted = A.find_references(shapes, numbers, talking, "happy", same_opening=False, gap_limit=100.0)
    assert [item["expression"][0] <= 1340 <= item["expression"][-1] for item in lifted] == [True]
    assert lifted[0]["pose_gap"] > 2 * A.POSE_GAP_LIMIT


def test_the_found_smiles_agree_with_each_other_and_the_turned_reference_does_not(franck_path, scanned, talking):
    """Two real smiles of one man, each against his resting frames in its own head pose, point the same way; his
    closed smiles at 1304-1372 against his talking frames (another head pose) point elsewhere: that was pose."""
    reference = A.reference_shape(talking)
    found = A.find_references(scanned, SCANNED, talking, "happy")
    early = next(item for item in found if item["expression"][0] < 2000)
    late = next(item for item in found if item["expression"][0] > 2300)
    real = [_real(_pick(scanned, item["rest"]), _pick(scanned, item["expression"]), reference)
            for item in (early, late)]
    assert A._cosine(*real) > 0.8
    turned = _real(talking, A.measure_shapes(_frames(franck_path, range(1304, 1373, 4))), reference)
    assert A._cosine(turned, real[0]) < 0.5 and A._cosine(turned, real[1]) < 0.5


def test_pooled_smiles_each_pair_with_their_own_resting_frames(scanned, talking):
    """Pooling two found smiles, each smiling frame is compared with resting frames beside its own smile, never with
    another smile's resting frames turned otherwise."""
    found = A.find_references(scanned, SCANNED, talking, "happy")
    early = next(item for item in found if item["expression"][0] < 2000)
    late = next(item for item in found if item["expression"][0] > 2300)
    rest = _pick(scanned, early["rest"] + late["rest"])
    labels = ([0] * len(early["rest"]) + [1] * len(late["rest"]), [0] * len(early["expression"]))
    smile = _pick(scanned, early["expression"])
    alone = A.compare(_pick(scanned, early["rest"]), smile, talking, talking)
    grouped = A.compare(rest, smile, talking, talking, groups=labels)
    mixed = A.compare(rest, smile, talking, talking)
    # The same up to the alignment's frame (built from all the resting frames given); mixed, his smile read a
    # third narrower (0.14 against 0.20 IOD).
    for name, row in alone["features"].items():
        assert grouped["features"][name]["real"] == pytest.approx(row["real"], abs=0.001)
    assert alone["features"]["mouth_width"]["real"] - mixed["features"]["mouth_width"]["real"] > 0.03
    with pytest.raises(ValueError, match="groups"):
        A.compare(rest, smile, talking, talking, groups=(labels[0], [2] * len(smile)))


def test_bad_input_is_refused(talking):
    with pytest.raises(ValueError, match="no cues"):
        A.find_references(talking, list(range(len(talking))), talking, "contempt")
    with pytest.raises(ValueError, match="ascending"):
        A.find_references(talking, list(range(len(talking)))[::-1], talking, "happy")
    with pytest.raises(ValueError, match="ascending"):
        A.find_references(talking, list(range(len(talking) - 1)), talking, "happy")


def test_eval_finds_the_reference_itself(tmp_path, franck_path, capsys):
    frames = _frames(franck_path, range(720, 724))
    source, edited = tmp_path / "src.####.png", tmp_path / "edt.####.png"
    for k, rgb in enumerate(frames):
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(source).replace("####", f"{k + 1:04d}"), bgr)
        cv2.imwrite(str(edited).replace("####", f"{k + 1:04d}"), bgr)
    out = tmp_path / "eval.json"
    common = ["eval", str(source), str(edited), "-o", str(out), "--identity-stride", "10", "--reference",
              str(franck_path), "--reference-neutral", "672-767x3"]
    assert main([*common, "--target", "happy", "--reference-expression", "auto", "--reference-scan",
                 "2180-2438x2"]) == 0
    report = json.loads(out.read_text())
    references = report["agreement"]["references"]
    assert any(item["expression"][0] <= 2350 <= item["expression"][-1] for item in references)
    assert report["agreement"]["frames"]["expression"] == sum(len(item["expression"]) for item in references)
    gap = report["agreement"]["pose_gap"]  # the worst stretch against its own resting frames: none turned otherwise
    assert gap["ratio"] == max(gap["by_group"].values()) <= A.POSE_GAP_LIMIT and "note" not in gap
    assert "happy at 2" in capsys.readouterr().out
    # Where nothing is found, nothing is made up.
    assert main([*common, "--overwrite", "--target", "surprised", "--reference-expression", "auto",
                 "--reference-scan", "2180-2438x2"]) == 2
    assert "no stretch" in capsys.readouterr().err
    # Resting frames without a face (a black plate) are said to be, not a traceback.
    black = tmp_path / "black.####.png"
    for k in range(3):
        cv2.imwrite(str(black).replace("####", f"{k + 1:04d}"), np.zeros((120, 160, 3), np.uint8))
    assert main(["eval", str(source), str(edited), "-o", str(tmp_path / "black.json"), "--reference", str(black),
                 "--reference-neutral", "1-3", "--target", "happy", "--reference-expression", "auto"]) == 2
    assert "no shape with a face" in capsys.readouterr().err
    for extra, said in ((["--reference-expression", "auto"], "--target"),
                        (["--target", "sad", "--reference-expression", "auto"], "--target"),
                        (["--target", "happy", "--reference-expression", "auto", "--reference-rest-pool", "0-99"],
                         "--reference-rest-pool"),
                        (["--reference-expression", "2330-2370", "--reference-scan", "0-99"], "--reference-scan")):
        assert main([*common, "--overwrite", *extra]) == 2
        assert said in capsys.readouterr().err
