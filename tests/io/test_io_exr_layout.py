"""EXR data and display windows, and the channels that are not edited (depth, AOVs), through io.

Plates are written here with OpenImageIO directly, so the code under test reads files
made the way a compositor or a renderer makes them; outputs are read back the same way.
"""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import pytest

from emotionedit.errors import InputError, UserError
from emotionedit.io import open_frames, open_writer
from emotionedit.io.images import read_image
from file_helpers import read_exr, windows, write_exr

H, W = 12, 16
_NUMPY = {"half": np.float16, "float": np.float32, "uint": np.uint32}


def bits(array):
    return array.view({2: np.uint16, 4: np.uint32}[array.dtype.itemsize])


def special(dtype, seed, scale=3.0):
    """An (H, W) plane with NaN, +-inf, -0, denormals and ordinary values of ``dtype``."""
    plane = (np.random.default_rng(seed).standard_normal((H, W)) * scale).astype(dtype)
    tiny = np.finfo(dtype).smallest_subnormal
    values = [np.nan, np.inf, -np.inf, -0.0, tiny, -tiny, 65504.0 if dtype == np.float16 else 3.4e38]
    plane[0, : len(values)] = np.array(values, dtype)
    return plane


def rgba(seed=1):
    return [(name, "half", special(np.float16, seed + i, 0.5)) for i, name in enumerate("RGBA")]


def aovs():
    """Depth in float, an ID pass in uint (values up to 2**24), a half AOV layer, a float cryptomatte layer."""
    ids = np.random.default_rng(9).integers(0, 2**24, (H, W), dtype=np.uint32)
    ids[0, :3] = [0, 2**24, 1]
    return [("Z", "float", special(np.float32, 20, 1e4)), ("id", "uint", ids)] + [
        (f"diffuse.{c}", "half", special(np.float16, 30 + i)) for i, c in enumerate("RGB")
    ] + [(f"crypto00.{c}", "float", special(np.float32, 40 + i)) for i, c in enumerate("RGBA")]


def copy_through(source_pattern, target_pattern, edit=None, pass_through=True):
    """Read a plate and write it (each frame through ``edit``), with the plate's reader as ``source``
    when ``pass_through``."""
    with open_frames(source_pattern) as reader:
        options = {"source": reader} if pass_through else {}
        with open_writer(target_pattern, reader.spec, reader.frame_numbers, **options) as writer:
            for number, frame in reader:
                writer.write(number, frame if edit is None else edit(frame))
    return reader, writer


@pytest.mark.parametrize("origin, display", [
    ((5, 3), (0, 0, 40, 30)),  # a cropped data window inside the display window
    ((-4, -2), (0, 0, W - 8, H - 4)),  # overscan: the data window reaches past the display window
])
def test_windows_come_back_as_they_were(tmp_path, origin, display):
    write_exr(tmp_path / "plate.1001.exr", rgba(), origin, display)
    reader, _ = copy_through(tmp_path / "plate.####.exr", tmp_path / "out.####.exr", pass_through=False)
    before, source = read_exr(tmp_path / "plate.1001.exr")
    after, written = read_exr(tmp_path / "out.1001.exr")
    assert windows(after) == windows(before) == ((*origin, W, H), display)
    assert reader.spec.origin == origin and reader.spec.display == display
    assert reader.spec.shape == (H, W, 4)  # a frame array is the data window
    for name in "RGBA":
        assert written[name][0] == "half"
        np.testing.assert_array_equal(bits(written[name][1]), bits(source[name][1]))


def test_a_plain_plate_keeps_its_plain_windows(tmp_path):
    write_exr(tmp_path / "p.exr", rgba())
    spec = read_image(tmp_path / "p.exr")[1]
    assert spec.origin == (0, 0) and spec.display_window is None and spec.plain_window
    assert spec.extra_channels == () and spec.channel_types == ()


def test_every_channel_passes_through_with_its_name_and_type(tmp_path):
    planes = rgba() + aovs()
    write_exr(tmp_path / "plate.0007.exr", planes, (3, 2), (0, 0, 24, 20))
    source_header, source = read_exr(tmp_path / "plate.0007.exr")
    with open_frames(tmp_path / "plate.####.exr") as reader:
        spec = reader.spec
        assert spec.channel_names == ("R", "G", "B", "A") and spec.dtype == np.float16  # half stays half
        assert set(spec.extra_channels) == {name for name, _, _ in aovs()}
        edited = (reader.read(7).astype(np.float32) * 0.5 + 0.25).astype(np.float16)
    copy_through(tmp_path / "plate.####.exr", tmp_path / "out.####.exr", lambda _: edited)
    header, written = read_exr(tmp_path / "out.0007.exr")
    assert tuple(header.channelnames) == tuple(source_header.channelnames)
    assert {name: kind for name, (kind, _) in written.items()} == {name: kind for name, (kind, _) in source.items()}
    assert windows(header) == windows(source_header)
    for index, name in enumerate("RGBA"):  # the edited channels carry the edit
        np.testing.assert_array_equal(bits(written[name][1]), bits(edited[:, :, index]))
    for name, _, _ in aovs():  # every other channel bit for bit
        np.testing.assert_array_equal(bits(written[name][1]), bits(source[name][1]), err_msg=name)


def test_all_half_plate_with_aovs_passes_them_through(tmp_path):
    planes = rgba() + [(f"spec.{c}", "half", special(np.float16, 50 + i)) for i, c in enumerate("RGB")]
    write_exr(tmp_path / "h.0001.exr", planes)
    copy_through(tmp_path / "h.####.exr", tmp_path / "o.####.exr")
    _, source = read_exr(tmp_path / "h.0001.exr")
    _, written = read_exr(tmp_path / "o.0001.exr")
    assert list(written) == list(source)
    for name in source:
        assert written[name][0] == "half"
        np.testing.assert_array_equal(bits(written[name][1]), bits(source[name][1]), err_msg=name)


def test_rgb_with_depth_edits_rgb_and_keeps_depth(tmp_path):
    # Four channels R, G, B, Z: Z is not an alpha to edit.
    z = special(np.float32, 60, 100.0)
    write_exr(tmp_path / "z.0001.exr", [(c, "half", special(np.float16, i)) for i, c in enumerate("RGB")]
              + [("Z", "float", z)])
    with open_frames(tmp_path / "z.####.exr") as reader:
        assert reader.spec.channels == 3 and reader.spec.extra_channels == ("Z",)
        assert reader.spec.dtype == np.float16
    copy_through(tmp_path / "z.####.exr", tmp_path / "o.####.exr", lambda frame: np.zeros_like(frame))
    _, written = read_exr(tmp_path / "o.0001.exr")
    assert list(written) == ["R", "G", "B", "Z"] and written["Z"][0] == "float"
    np.testing.assert_array_equal(bits(written["Z"][1]), bits(z))
    assert not written["R"][1].any()


def test_mixed_types_of_the_edited_channels_are_kept(tmp_path):
    planes = [(c, "half", special(np.float16, i)) for i, c in enumerate("RGB")] + [("A", "float", special(
        np.float32, 9))]
    write_exr(tmp_path / "m.0001.exr", planes)
    with open_frames(tmp_path / "m.####.exr") as reader:
        assert reader.spec.dtype == np.float32  # the widest of them, for the engine
    copy_through(tmp_path / "m.####.exr", tmp_path / "o.####.exr", pass_through=False)
    _, source = read_exr(tmp_path / "m.0001.exr")
    _, written = read_exr(tmp_path / "o.0001.exr")
    for name in "RGBA":
        assert written[name][0] == source[name][0]
        np.testing.assert_array_equal(bits(written[name][1]), bits(source[name][1]))


def test_an_id_over_what_can_be_carried_is_refused_and_nothing_is_written(tmp_path):
    # OpenImageIO writes a uint sample over 2**24 exactly only from a uint buffer, so only an all-uint
    # file holds one; beside the (float) edited channels it would change: refused, not rounded.
    ids = np.full((H, W), 7, np.uint32)
    ids[4, 4] = 2**24 + 1
    spec = oiio.ImageSpec(W, H, 4, "uint")
    spec.channelnames = ("R", "G", "B", "id")
    out = oiio.ImageOutput.create(str(tmp_path / "k.0001.exr"))
    assert out.open(str(tmp_path / "k.0001.exr"), spec)
    assert out.write_image(np.dstack([np.full((H, W, 3), 3, np.uint32), ids[:, :, None]]))
    out.close()
    assert read_exr(tmp_path / "k.0001.exr")[1]["id"][1].max() == 2**24 + 1
    with pytest.raises(UserError, match=r"o\.0001\.exr was not written: channel 'id' holds whole numbers up to "
                       r"16777217.*bit for bit"):
        copy_through(tmp_path / "k.####.exr", tmp_path / "o.####.exr")
    assert not list(tmp_path.glob("o.*")) and not list(tmp_path.glob(".o.*"))


def test_frames_with_another_data_window_are_refused_naming_the_frame(tmp_path):
    write_exr(tmp_path / "s.0001.exr", rgba(), (0, 0), (0, 0, 40, 30))
    write_exr(tmp_path / "s.0002.exr", rgba(), (6, 0), (0, 0, 40, 30))  # same size, moved: Nuke's autocrop
    with pytest.raises(InputError, match=r"frame 2 .*data window at \(6, 0\).*autocrop"):
        open_frames(tmp_path / "s.####.exr")
    assert open_frames(tmp_path / "s.####.exr", (1, 1)).frame_numbers == [1]


def test_frames_with_other_extra_channels_are_refused_naming_the_frame(tmp_path):
    write_exr(tmp_path / "s.0001.exr", rgba() + [("Z", "float", special(np.float32, 1))])
    write_exr(tmp_path / "s.0002.exr", rgba())
    with pytest.raises(InputError, match=r"frame 2 .*channels \('R', 'G', 'B', 'A'\).*same"):
        open_frames(tmp_path / "s.####.exr")


def test_other_formats_hold_the_data_window_and_say_what_they_drop(tmp_path):
    write_exr(tmp_path / "p.0001.exr", rgba() + [("Z", "float", special(np.float32, 1))], (5, 3), (0, 0, 40, 30))
    frame = None
    with open_frames(tmp_path / "p.####.exr") as reader:
        frame = reader.read(1)
        for target in ("o.####.png", "o.####.tif", "o.mkv"):
            with open_writer(tmp_path / target, reader.spec, [1], source=reader) as writer:
                notes = " ".join(writer.notes)
                assert "data window" in notes and "display window" in notes and "write EXR" in notes
                assert "channels Z are not in" in notes
                writer.write(1, frame if target.endswith(".tif") else np.clip(frame, 0, 1))
        with open_writer(tmp_path / "x.####.exr", reader.spec, [1]) as writer:  # no source: said so
            assert writer.notes == [f"the plate's channels Z are not in {tmp_path / 'x.####.exr'}: "
                                    "no plate was given to copy them from"]
            writer.write(1, frame)
    tiff, spec = read_image(tmp_path / "o.0001.tif")  # as before: the data window as a plain picture
    assert spec.plain_window and spec.extra_channels == ()
    np.testing.assert_array_equal(bits(tiff), bits(frame.astype(np.float32)))
    header, written = read_exr(tmp_path / "x.0001.exr")
    assert windows(header) == ((5, 3, W, H), (0, 0, 40, 30)) and list(written) == list("RGBA")


def test_an_exr_output_of_an_exr_plate_has_nothing_to_note(tmp_path):
    write_exr(tmp_path / "p.0001.exr", rgba() + aovs(), (5, 3), (0, 0, 40, 30))
    _, writer = copy_through(tmp_path / "p.####.exr", tmp_path / "o.####.exr")
    assert writer.notes == []
