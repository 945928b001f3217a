"""EXR plates as a compositor hands them over: cropped and overscan data windows, depth and AOVs.

The convention under test: analysis and render work on the data window's pixels, and the
output EXR gets the plate's data window, display window and every channel back, the
channels that are not edited bit for bit. Plates are made here with OpenImageIO from real
frames of franck talking.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emotionedit.cli import main
from file_helpers import read_clip, read_layout, write_exr

FIRST, COUNT = 700, 8
X0, Y0, X1, Y1 = 70, 10, 300, 280  # the cropped data window: the face and some background
OVERSCAN = 20, 12  # pixels of picture beyond the display window, each side


def rgb(channels):
    """The R, G, B planes of ``read_layout``'s channels as one (H, W, 3) float32 array."""
    return np.dstack([channels[c][1] for c in "RGB"]).astype(np.float32)


def _aovs(height, width, seed):
    rng = np.random.default_rng(seed)
    depth = (rng.random((height, width)) * 500 + 100).astype(np.float32)
    depth[0, :3] = [np.inf, -0.0, np.nan]
    ids = rng.integers(0, 2**20, (height, width), dtype=np.uint32)
    return [("Z", "float", depth), ("id", "uint", ids)] + [
        (f"diffuse.{c}", "half", rng.standard_normal((height, width)).astype(np.float16)) for c in "RGB"
    ] + [(f"crypto00.{c}", "float", rng.standard_normal((height, width)).astype(np.float32)) for c in "RGBA"]


@pytest.fixture(scope="module")
def plates(tmp_path_factory, franck_path):
    """The same real frames as EXR plates: plain, overscan, a cropped data window, and cropped with AOVs."""
    root = tmp_path_factory.mktemp("exr_plates")
    for index, frame in enumerate(read_clip(franck_path, FIRST, COUNT)):
        number = FIRST + index
        linear = ((frame.astype(np.float32) / 255.0) ** 2.2).astype(np.float16)
        height, width = linear.shape[:2]
        planes = [(c, "half", linear[:, :, i]) for i, c in enumerate("RGB")]
        cropped = [(c, "half", linear[Y0:Y1, X0:X1, i]) for i, c in enumerate("RGB")]
        write_exr(root / f"plain.{number:04d}.exr", planes)
        ox, oy = OVERSCAN
        write_exr(root / f"overscan.{number:04d}.exr", planes, (-ox, -oy), (0, 0, width - 2 * ox, height - 2 * oy))
        write_exr(root / f"crop.{number:04d}.exr", cropped, (X0, Y0), (0, 0, width, height))
        write_exr(root / f"aov.{number:04d}.exr", cropped + _aovs(Y1 - Y0, X1 - X0, number), (X0, Y0),
                  (0, 0, width, height))
    return root


def _render(plates, name, output=None, extra=()):
    plate = plates / f"{name}.####.exr"
    analysis = plates / f"{name}.analysis.npz"
    if not analysis.exists():
        assert main(["analyze", str(plate), "-o", str(analysis)]) == 0
    output = output or plates / "out" / name / f"{name}.####.exr"
    if not output.parent.exists() or not list(output.parent.iterdir()):
        assert main(["render", str(plate), "--analysis", str(analysis), "-o", str(output), "--intensity", "1",
                     *extra]) == 0
    return output


def _frame(pattern, number):
    return pattern.with_name(pattern.name.replace("####", f"{number:04d}"))


def test_an_overscan_plate_renders_as_the_plain_plate_and_keeps_its_windows(plates):
    plain = _render(plates, "plain")
    overscan = _render(plates, "overscan")
    for number in range(FIRST, FIRST + COUNT):
        source = read_layout(plates / f"overscan.{number:04d}.exr")
        out = read_layout(_frame(overscan, number))
        assert out[:2] == source[:2]  # the data window (origin included) and the display window
        assert out[1] != out[0]
        reference = read_layout(_frame(plain, number))[2]
        for c in "RGB":  # the same pixels, so the same edit, bit for bit
            assert out[2][c][0] == "half"
            np.testing.assert_array_equal(out[2][c][1].view(np.uint16), reference[c][1].view(np.uint16))
        assert not np.array_equal(rgb(out[2]), rgb(source[2]))  # and it is an edit


def test_a_cropped_data_window_edits_the_face_where_the_full_plate_does(plates):
    # The tracker sees the cropped picture, so its landmarks differ from the full frame's by a
    # fraction of a pixel: the edits agree closely, not bit for bit. Shifted by the data window's
    # origin (the old defect) they would not overlap at all.
    plain = _render(plates, "plain")
    crop = _render(plates, "crop")
    near = np.ones((7, 7), np.uint8)  # 3 pixels either way
    overlaps, errors, shifted_errors, sizes = [], [], [], []
    for number in range(FIRST, FIRST + COUNT):
        source = read_layout(plates / f"crop.{number:04d}.exr")
        data, display, channels = read_layout(_frame(crop, number))
        assert (data, display) == ((X0, Y0, X1 - X0, Y1 - Y0), source[1])
        edited = rgb(channels)
        before = rgb(source[2])
        full = rgb(read_layout(_frame(plain, number))[2])
        here = full[Y0:Y1, X0:X1]  # the full plate's render at the data window's pixels
        moved = (edited != before).any(axis=2)
        moved_full = (here != before).any(axis=2)
        overlaps.append((moved & moved_full).sum() / (moved | moved_full).sum())
        astray = moved & ~cv2.dilate(moved_full.astype(np.uint8), near).astype(bool)
        assert astray.sum() <= 0.001 * moved.sum(), f"frame {number}: {astray.sum()} pixels edited away from the face"
        errors.append(np.abs(edited - here).mean(axis=2)[moved_full].mean())
        shifted_errors.append(np.abs(edited - full[: Y1 - Y0, : X1 - X0]).mean(axis=2)[moved_full].mean())
        sizes.append(np.abs(here - before).mean(axis=2)[moved_full].mean())
    assert min(overlaps) > 0.95, overlaps  # measured: 0.97 to 0.99
    assert np.mean(errors) < 0.1 * np.mean(sizes), (errors, sizes)  # measured: 0.03 of the edit's size
    assert min(shifted_errors) > 5 * np.mean(sizes), shifted_errors


def test_depth_and_aovs_pass_through_a_render_bit_for_bit(plates, capsys):
    crop = _render(plates, "crop")
    aov = _render(plates, "aov")
    assert "note:" not in capsys.readouterr().err  # an EXR keeps everything: nothing to say
    for number in range(FIRST, FIRST + COUNT):
        data, display, source = read_layout(plates / f"aov.{number:04d}.exr")
        out = read_layout(_frame(aov, number))
        assert out[:2] == (data, display)
        assert list(out[2]) == list(source)  # every channel, in the same order
        assert {n: kind for n, (kind, _) in out[2].items()} == {n: kind for n, (kind, _) in source.items()}
        for name, (kind, plane) in source.items():
            if name in "RGB":
                continue
            bits = {"half": np.uint16}.get(kind, np.uint32)
            np.testing.assert_array_equal(out[2][name][1].view(bits), plane.view(bits), err_msg=name)
        reference = read_layout(_frame(crop, number))[2]  # the extra channels change nothing of the edit
        for c in "RGB":
            np.testing.assert_array_equal(out[2][c][1].view(np.uint16), reference[c][1].view(np.uint16))
        assert not np.array_equal(rgb(out[2]), rgb(source))


def test_a_png_render_of_an_exr_plate_says_what_it_cannot_keep(plates, capsys):
    _render(plates, "aov")  # the analysis
    output = plates / "out" / "aov_png" / "aov.####.png"
    capsys.readouterr()
    _render(plates, "aov", output, ("--frames", f"{FIRST}-{FIRST + 1}"))
    err = capsys.readouterr().err
    assert "note:" in err and "display window 360x288 at (0, 0)" in err
    assert "channels Z, id, crypto00.R" in err and "png holds only the edited channels" in err


def test_a_sequence_with_moved_data_windows_is_refused_before_any_work(plates, tmp_path, capsys):
    # Same size, another origin (a Write node's autocrop): the face would be tracked in moving coordinates.
    for index, origin in enumerate([(X0, Y0), (X0 + 6, Y0)]):
        number = FIRST + index
        _, display, channels = read_layout(plates / f"crop.{number:04d}.exr")
        write_exr(tmp_path / f"moved.{number:04d}.exr", [(c, "half", channels[c][1]) for c in "RGB"], origin, display)
    analysis = tmp_path / "moved.analysis.npz"
    assert main(["analyze", str(tmp_path / "moved.####.exr"), "-o", str(analysis)]) == 2
    err = capsys.readouterr().err
    assert f"frame {FIRST + 1} " in err and "data window at (76, 10)" in err and "autocrop" in err
    assert not analysis.exists()
