"""open_writer refuses to clobber: existing outputs, and inputs always."""

import numpy as np
import pytest

from emotionedit.errors import OutputExistsError, UserError
from emotionedit.io import FrameSpec, open_writer

SPEC = FrameSpec(4, 2, 3, ("R", "G", "B"), np.uint8, 24.0, (), "png")


def _write(pattern, numbers, value=0, **kwargs):
    with open_writer(pattern, SPEC, numbers, **kwargs) as writer:
        for n in numbers:
            writer.write(n, np.full(SPEC.shape, value, np.uint8))


def test_existing_output_raises_and_writes_nothing(tmp_path):
    pattern = tmp_path / "o.####.png"
    _write(pattern, [2])
    before = (tmp_path / "o.0002.png").read_bytes()
    with pytest.raises(OutputExistsError, match=r"--overwrite") as caught:
        open_writer(pattern, SPEC, [1, 2, 3])
    assert "o.0002.png" in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.0002.png"]
    assert (tmp_path / "o.0002.png").read_bytes() == before
    _write(pattern, [1, 2, 3], value=9, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.0001.png", "o.0002.png", "o.0003.png"]
    assert (tmp_path / "o.0002.png").read_bytes() != before


def test_output_equal_to_input_is_refused_even_with_overwrite(tmp_path):
    pattern = tmp_path / "in.####.png"
    _write(pattern, [1, 2])
    for protect in ([pattern], [tmp_path / "in.0001.png"], [str(tmp_path / "in.%04d.png")]):
        with pytest.raises(UserError, match="never overwrites its inputs"):
            open_writer(tmp_path / "." / "in.%04d.png", SPEC, [1], overwrite=True, protect=protect)
    link = tmp_path / "alias.0001.png"
    link.symlink_to(tmp_path / "in.0001.png")
    with pytest.raises(UserError, match="never overwrites its inputs"):
        open_writer(tmp_path / "alias.####.png", SPEC, [1], overwrite=True, protect=[pattern])


def test_wrong_array_is_programming_error(tmp_path):
    with open_writer(tmp_path / "w.####.png", SPEC, [1]) as writer:
        with pytest.raises(ValueError, match="must be an array"):
            writer.write(1, np.zeros(SPEC.shape, np.float32))
        with pytest.raises(ValueError, match="must be an array"):
            writer.write(1, np.zeros((2, 4, 4), np.uint8))
        with pytest.raises(ValueError, match="not one"):
            writer.write(7, np.zeros(SPEC.shape, np.uint8))


def test_many_frames_need_a_pattern_and_directory_is_created(tmp_path):
    with pytest.raises(UserError, match=r"####"):
        open_writer(tmp_path / "one.png", SPEC, [1, 2])
    _write(tmp_path / "new" / "deeper" / "x.png", [5])
    assert (tmp_path / "new" / "deeper" / "x.png").is_file()
