"""The expression basis is grounded in real faces: the shipped measured smile, and the calibration that makes it."""

from __future__ import annotations

import numpy as np

from emotionedit.calibrate import measure_actor, mirror_map, symmetric
from emotionedit.fit import topology as topo
from emotionedit.fit.basis import AUS, build_basis
from emotionedit.fit.measured import FEATURES, features, measured_fields
from emotionedit.fit.pose import to_canonical


def _named(values: np.ndarray) -> dict[str, float]:
    return dict(zip(FEATURES, values.tolist(), strict=True))


def test_the_shipped_smile_moves_the_face_as_real_smiles_do():
    fields = measured_fields()
    neutral, smile = fields["reference_neutral"], fields["smile"]
    change = _named(features(neutral + smile, neutral))
    # Real broad smiles of two men (quality bar, dlib): mouth +0.18..0.21 IOD, corners up, philtrum a little
    # shorter, nothing stretching the chin. The shipped field was measured with mediapipe on other men's
    # footage; it must say the same.
    assert 0.15 < change["mouth_width"] < 0.25
    assert change["corner_lift"] > 0.03
    assert -0.05 < change["philtrum"] <= 0.0
    assert change["lower_lip_to_chin"] < 0.02
    assert abs(change["aperture"]) < 0.005  # the jaw's part is taken out
    assert change["cheek_height"] > 0.02  # cheeks rise (AU 6)
    assert -0.02 < change["brow_height"] < -0.005  # the brows come down a little (AU 6; see test_smile_brows)
    # Left-right symmetric, and the eye corners (the skull) do not move.
    mirrored = symmetric(smile, fields["mirror"])
    np.testing.assert_allclose(mirrored, smile, atol=1e-6)
    corners = [topo.RIGHT_EYE_OUTER, topo.RIGHT_EYE_INNER, topo.LEFT_EYE_OUTER, topo.LEFT_EYE_INNER]
    assert np.abs(smile[corners, :2]).max() < 0.01  # in the image plane (depth is the tracker's noisiest axis)


def test_the_mirror_map_pairs_upper_lip_with_upper_lip():
    fields = measured_fields()
    mirror = mirror_map(fields["reference_neutral"], fields["jaw"])
    assert np.array_equal(mirror[mirror], np.arange(len(mirror)))  # an involution
    assert mirror[topo.MOUTH_CORNER_RIGHT] == topo.MOUTH_CORNER_LEFT
    assert mirror[13] == 13 and mirror[14] == 14  # lips touch at rest, but stay upper and lower
    for right, left in zip(topo.LIPS_INNER_UPPER, topo.LIPS_INNER_UPPER[::-1], strict=True):
        assert mirror[right] == left


def test_the_smile_action_units_rebuild_the_measured_smile_on_another_face(talking):
    _, analysis = talking
    neutral = analysis.fit.neutral
    basis = build_basis(neutral).sum(axis=1)
    smile = basis[AUS.index(6)] + basis[AUS.index(12)]
    on_actor = _named(features(neutral + smile, neutral))
    shipped = measured_fields()
    reference = _named(features(shipped["reference_neutral"] + shipped["smile"], shipped["reference_neutral"]))
    for name in ("mouth_width", "corner_lift", "cheek_height"):
        assert on_actor[name] == np.float64(reference[name]) or abs(on_actor[name] - reference[name]) < 0.01, name


def test_calibration_on_real_frames_finds_the_shipped_smile(talking, smiling):
    # franck talking and laughing (open-mouthed), four seconds: the joint fit splits his smile from his jaw
    # and points where his closed-lip smiles (the shipped field) do.
    shots = [talking[1], smiling[1]]
    canonical = np.concatenate([
        to_canonical(a.track.landmarks.astype(np.float64), a.fit.scale, a.fit.rotation, a.fit.translation)
        for a in shots])
    usable = np.concatenate([a.fit.flags == 0 for a in shots])
    neutral = np.median(canonical[np.flatnonzero(usable)[: len(usable) // 2]], axis=0)  # the talking half
    fields = measure_actor(canonical, usable, neutral)
    assert fields["frames"]["broad_smiles"] >= 30
    # Compared where the shipped smile moves the face (at least a quarter of its largest motion): elsewhere
    # (the outline) 4 s of one laughing actor measure his jaw and head more than his smile.
    measured = fields["smile_separated"][: topo.N_POINTS - 10, :2]
    shipped = measured_fields()["smile"][: topo.N_POINTS - 10, :2]
    moved = np.linalg.norm(shipped, axis=1) >= 0.25 * np.linalg.norm(shipped, axis=1).max()
    cosine = measured[moved].ravel() @ shipped[moved].ravel() / np.linalg.norm(measured[moved]) / np.linalg.norm(
        shipped[moved])
    # 4 s of one actor against 200 s of two: 0.90 on the tracker's points, 0.86 on the steady ones (the shipped
    # field was measured on the tracker's points, which share its shape model's habits; 0.74 and 0.67 over the
    # whole face)
    assert cosine > 0.8
