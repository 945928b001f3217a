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
    for item in found:
        assert item["pose_gap"] <= A.POSE_GAP_LIMIT
        assert len(item["rest"]) >= A.MIN_REST_FRAMES and not set(item["rest"]) & set(item["expression"])
        first, last = item["expression"][0], item["expression"][-1]
        assert all(first - A.REST_WINDOW_FRAMES <= n <= last + A.REST_WINDOW_FRAMES for n in item["rest"])
        shapes = A.align(_pick(scanned, item["expression"]), A.reference_shape(talking))
        assert np.median(A.features(shapes)["mouth_width"]) > np.median(A.features(A.align(
            talking, A.reference_shape(talking)))["mouth_width"]) + A.EXPRESSION_CUES["happy"]["mouth_width"]
    # At 2372 his lips part over the teeth: a laugh's dropped jaw is no reference for an edit that keeps the lips'
    # opening, so the stretch stops there unless asked otherwise.
    late = next(item for item in found if item["expression"][0] > 2300)
    assert late["expression"][-1] < 2372
    opened = A.find_references(scanned, SCANNED, talking, "happy", same_opening=False)
    assert not any(item["expression"][0] <= 2350 <= item["expression"][-1] < 2372 for item in opened)


def test_the_found_smiles_agree_with_each_other_and_the_turned_reference_does_not(franck_path, scanned, talking):
    """Two real smiles of one man, each against his resting frames in its own head pose, point the same way; his
    closed smiles at 1304-1372 against his talking frames (another head pose) point elsewhere: that was pose."""
    reference = A.reference_shape(talking)
    found = A.find_references(scanned, SCANNED, talking, "happy")
    early = next(item for item in found if item["expression"][0] < 2000)
    late = next(item for item in found if item["expression"][0] > 2300)
    real = [_real(_pick(scanned, item["rest"]), _pick(scanned, item["expression"]), reference)
            for item in (early, late)]
    assert A._cosine(*real) > 0.9
    turned = _real(talking, A.measure_shapes(_frames(franck_path, range(1304, 1373, 4))), reference)
    assert A._cosine(turned, real[0]) < 0.5 and A._cosine(turned, real[1]) < 0.5


def test_nothing_is_found_where_he_only_talks(talking):
    assert A.find_references(talking, list(range(672, 768, 3)), talking, "happy") == []
    assert A.find_references(talking, list(range(672, 768, 3)), talking, "surprised") == []


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
