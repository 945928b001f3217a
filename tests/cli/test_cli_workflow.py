"""The command line end to end on a real clip: analyze once, render, preview; and refusals."""

from __future__ import annotations

import json

import numpy as np
import OpenImageIO as oiio
import pytest

from emotionedit.analysis import load as load_analysis
from emotionedit.cli import main
from emotionedit.io import open_frames

FRAMES = "700-723"


@pytest.fixture(scope="module")
def shot(tmp_path_factory, franck_path):
    """The talking clip as a float EXR sequence (a real plate's format) and its analysis."""
    root = tmp_path_factory.mktemp("shot")
    plate = root / "plate.####.exr"
    code = main(["render", str(franck_path), "--frames", FRAMES, "--intensity", "0", "-o", str(root / "p8.####.png")])
    assert code == 0
    with open_frames(root / "p8.####.png") as reader:
        for number, image in reader:
            linear = ((image.astype(np.float32) / 255.0) ** 2.2).astype(np.float16)
            out = oiio.ImageOutput.create(str(root / f"plate.{number:04d}.exr"))
            spec = oiio.ImageSpec(image.shape[1], image.shape[0], 3, "half")
            spec.attribute("studio:shot", "ee_0010")
            out.open(str(root / f"plate.{number:04d}.exr"), spec)
            out.write_image(linear)
            out.close()
    analysis = root / "plate.analysis.npz"
    assert main(["analyze", str(plate), "-o", str(analysis)]) == 0
    return root, plate, analysis


def test_render_keeps_format_and_metadata_and_previews(shot, capsys):
    root, plate, analysis = shot
    out = root / "happy" / "plate.####.exr"
    code = main(["render", str(plate), "--analysis", str(analysis), "-o", str(out),
                 "--intensity", "smooth:700:0,723:1", "--lip-preservation", "700:1,723:0.5"])
    assert code == 0
    with open_frames(plate) as src, open_frames(out) as dst:
        assert dst.spec.dtype == np.float16 and dst.spec.channels == 3
        assert dst.spec.attribute("studio:shot") == "ee_0010"
        assert np.array_equal(src.read(700), dst.read(700))  # intensity 0 at the first key
        assert not np.array_equal(src.read(723), dst.read(723))
    sheet = root / "sheet.png"
    assert main(["preview", str(plate), str(out), "--analysis", str(analysis), "-o", str(sheet)]) == 0
    assert sheet.stat().st_size > 10_000


def test_existing_output_is_refused_without_overwrite(shot, capsys):
    root, plate, analysis = shot
    out = root / "again" / "plate.####.exr"
    assert main(["render", str(plate), "--analysis", str(analysis), "-o", str(out), "--frames", "700-701"]) == 0
    before = (root / "again" / "plate.0700.exr").read_bytes()
    code = main(["render", str(plate), "--analysis", str(analysis), "-o", str(out), "--frames", "700-701",
                 "--intensity", "2"])
    assert code == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (root / "again" / "plate.0700.exr").read_bytes() == before


def test_input_is_never_overwritten(shot, capsys):
    root, plate, analysis = shot
    before = (root / "plate.0700.exr").read_bytes()
    code = main(["render", str(plate), "--analysis", str(analysis), "-o", str(plate), "--overwrite"])
    assert code == 2
    assert (root / "plate.0700.exr").read_bytes() == before


def test_mismatched_analysis_is_refused_before_writing(shot, tmp_path, capsys, franck_path):
    root, plate, analysis = shot
    # Another resolution: the movie itself is 360x288 too, so use a scaled copy of the plate.
    big = tmp_path / "big.####.png"
    with open_frames(plate, (700, 701)) as reader:
        for number, image in reader:
            up = np.repeat(np.repeat(image, 2, axis=0), 2, axis=1).astype(np.float32)
            buf = oiio.ImageBuf(np.clip(up * 255, 0, 255).astype(np.uint8))
            buf.write(str(tmp_path / f"big.{number:04d}.png"))
    out = tmp_path / "out.####.png"
    assert main(["render", str(big), "--analysis", str(analysis), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "360x288" in err and "720x576" in err
    assert not list(tmp_path.glob("out.*"))
    # Frames outside the analysed range.
    assert main(["render", str(franck_path), "--frames", "600-610", "--analysis", str(analysis),
                 "-o", str(out)]) == 2
    assert "not in the analysis" in capsys.readouterr().err
    assert not list(tmp_path.glob("out.*"))


def test_analysis_fitted_with_an_older_basis_is_refused(shot, tmp_path, capsys):
    root, plate, analysis = shot
    # An analysis file from before the basis revision was recorded (revision 1).
    with np.load(analysis) as data:
        arrays = {key: data[key] for key in data.files}
    header = json.loads(bytes(arrays["header"]).decode())
    del header["basis_revision"]
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    old = tmp_path / "old.analysis.npz"
    np.savez(old, **arrays)
    out = tmp_path / "out.####.png"
    assert main(["render", str(plate), "--analysis", str(old), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "basis revision 1" in err and "re-run `emotionedit analyze`" in err
    assert not list(tmp_path.glob("out.*"))


def test_bad_values_and_files_give_messages_not_tracebacks(shot, tmp_path, capsys):
    root, plate, analysis = shot
    out = str(tmp_path / "o.####.png")
    cases = [
        (["--intensity", "3"], "outside 0..2"),
        (["--intensity", "700:0,700:1"], "two keys on one frame"),
        (["--emotion", "bored"], "unknown emotion"),
        (["--regions", "ears"], "unknown region"),
    ]
    for extra, message in cases:
        assert main(["render", str(plate), "--analysis", str(analysis), "-o", out] + extra) == 2
        assert message in capsys.readouterr().err
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not an analysis")
    assert main(["render", str(plate), "--analysis", str(junk), "-o", out]) == 2
    assert "not an EmotionEdit analysis" in capsys.readouterr().err
    assert not list(tmp_path.glob("o.*"))


def test_corrupt_frame_is_reported(shot, tmp_path, capsys):
    root, plate, analysis = shot
    seq = tmp_path / "c.####.exr"
    for n in (700, 701):
        data = (root / f"plate.{n:04d}.exr").read_bytes()
        (tmp_path / f"c.{n:04d}.exr").write_bytes(data if n == 700 else data[: len(data) // 2])
    code = main(["render", str(seq), "--analysis", str(analysis), "-o", str(tmp_path / "o.####.exr"),
                 "--frames", "700-701"])
    assert code == 2
    assert "c.0701.exr" in capsys.readouterr().err


def test_a_shot_without_a_face_is_refused(tmp_path, capsys):
    for n in range(3):
        oiio.ImageBuf(np.full((120, 160, 3), 90 + n, np.uint8)).write(str(tmp_path / f"wall.{n:04d}.png"))
    code = main(["analyze", str(tmp_path / "wall.####.png"), "-o", str(tmp_path / "a.npz")])
    assert code == 2
    assert "no face" in capsys.readouterr().err
    assert not (tmp_path / "a.npz").exists()


def test_neutral_from_another_take(shot, tmp_path, capsys, franck_path):
    root, plate, analysis = shot
    # Another take of the same actor (franck two minutes later) lends its resting face.
    other = tmp_path / "other.analysis.npz"
    assert main(["analyze", str(franck_path), "--frames", "3300-3323", "-o", str(other)]) == 0
    lent = tmp_path / "lent.analysis.npz"
    assert main(["analyze", str(plate), "--neutral-from", str(other), "-o", str(lent)]) == 0
    fit = load_analysis(lent).fit
    assert len(fit.neutral_frames) == 0 and 0.0 <= fit.neutral_match < 0.03
    capsys.readouterr()
    # The analysis it reads is never written over, and it cannot be combined with --neutral-frames.
    before = other.read_bytes()
    assert main(["analyze", str(plate), "--neutral-from", str(other), "-o", str(other), "--overwrite"]) == 2
    assert "--neutral-from reads" in capsys.readouterr().err
    assert other.read_bytes() == before
    assert main(["analyze", str(plate), "--neutral-from", str(other), "--neutral-frames", "700-702",
                 "-o", str(tmp_path / "x.npz")]) == 2
    assert "not both" in capsys.readouterr().err
