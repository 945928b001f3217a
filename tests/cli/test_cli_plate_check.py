"""`render` checks every frame's pixels against the analysis's fingerprint of the plate (issue 11, defects 4
and 12): another shot with the same size and frame numbers, or the plate renumbered so that its frames land
on other analysed frames, exits 2 naming the frame before that frame is written; a re-graded plate renders;
--ignore-plate-mismatch renders anyway."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio

from emotionedit.cli import main
from emotionedit.io import open_frames
from file_helpers import read_clip

OTHER_TAKE = 3600  # franck smiling, two minutes after the small shot's talking frames


def write_png(path, image: np.ndarray) -> None:
    assert oiio.ImageBuf(np.ascontiguousarray(image)).write(str(path))


def render(plate, shot, out, *extra: str) -> list[str]:
    return ["render", str(plate), "--analysis", str(shot.analysis), "-o", str(out / "o.####.png"), *extra]


def test_another_take_numbered_like_the_analysis_exits_2_before_writing(small_shot, franck_path, tmp_path, capsys):
    plate = tmp_path / "other.####.png"
    for offset, image in enumerate(read_clip(franck_path, OTHER_TAKE, 4)):
        write_png(tmp_path / f"other.{small_shot.first + offset:04d}.png", image)
    out = tmp_path / "out"
    assert main(render(plate, small_shot, out)) == 2
    err = capsys.readouterr().err
    assert f"frame {small_shot.first} of the plate is not the frame the analysis" in err and "another shot" in err
    assert "--ignore-plate-mismatch" in err and "Traceback" not in err
    assert not out.exists() or not list(out.iterdir())
    # The override: a plate known to be the analysed one (here it is not, and the edit lands where it lands).
    assert main(render(plate, small_shot, out, "--ignore-plate-mismatch")) == 0
    assert len(list(out.iterdir())) == 4


def test_a_plate_renumbered_by_one_exits_2_naming_the_offset(small_shot, tmp_path, capsys):
    """The plate's frames 700-703 hold what was analysed as 701-704 (an export that started one frame late):
    every frame number is inside the analysis, the size is the same; the pixels say which frame they are."""
    plate = tmp_path / "late.####.png"
    with open_frames(small_shot.plate, (small_shot.first + 1, small_shot.first + 4)) as reader:
        for number, image in reader:
            write_png(tmp_path / f"late.{number - 1:04d}.png", image)
    out = tmp_path / "out"
    assert main(render(plate, small_shot, out)) == 2
    err = capsys.readouterr().err
    first = small_shot.first
    assert f"frame {first} of the plate is not frame {first} of the analysis" in err
    assert f"its pixels are analysed frame {first + 1}" in err and "run 1 below the analysed plate's" in err
    assert not out.exists() or not list(out.iterdir())


def test_a_conformed_plate_stops_at_the_first_foreign_frame(small_shot, franck_path, tmp_path, capsys):
    """Frames 700-701 are the analysed ones, 702-703 another take: 700-701 are written (whole and right),
    702 is named, nothing is written for it or after it."""
    first = small_shot.first
    plate = tmp_path / "cut.####.png"
    with open_frames(small_shot.plate, (first, first + 1)) as reader:
        for number, image in reader:
            write_png(tmp_path / f"cut.{number:04d}.png", image)
    for offset, image in enumerate(read_clip(franck_path, OTHER_TAKE, 2)):
        write_png(tmp_path / f"cut.{first + 2 + offset:04d}.png", image)
    out = tmp_path / "out"
    assert main(render(plate, small_shot, out)) == 2
    err = capsys.readouterr().err
    assert f"frame {first + 2} of the plate is not the frame the analysis" in err
    assert sorted(p.name for p in out.iterdir()) == [f"o.{first:04d}.png", f"o.{first + 1:04d}.png"]


def test_a_regraded_plate_renders_without_the_override(small_shot, tmp_path, capsys):
    """A colourist's global change (gain, gamma, lift) is not another plate."""
    plate = tmp_path / "graded.####.png"
    with open_frames(small_shot.plate, (small_shot.first, small_shot.first + 3)) as reader:
        for number, image in reader:
            x = image.astype(np.float32) / 255.0
            write_png(tmp_path / f"graded.{number:04d}.png",
                      np.clip(255 * (0.03 + 0.9 * x**1.2), 0, 255).round().astype(np.uint8))
    out = tmp_path / "out"
    assert main(render(plate, small_shot, out)) == 0, capsys.readouterr().err
    assert len(list(out.iterdir())) == 4
