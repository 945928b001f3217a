"""Image files: bit-exact round trips, attributes, conversions, corrupt files."""

import numpy as np
import pytest

from emotionedit.errors import InputError
from emotionedit.io import FrameSpec, open_frames, open_writer
from emotionedit.io.images import read_image, write_image


def _spec(array, fmt, metadata=()):
    names = ("R", "G", "B", "A")[: array.shape[2]]
    return FrameSpec(array.shape[1], array.shape[0], array.shape[2], names, array.dtype, 24.0, metadata, fmt)


def _special_floats(dtype, channels=4):
    rng = np.random.default_rng(3)
    pixels = (rng.standard_normal((9, 11, channels)) * 40).astype(dtype)
    specials = [np.nan, np.inf, -np.inf, -0.0, 1e-5, 3.5, -2.25, 60000.0]
    pixels[0, : len(specials), 0] = np.array(specials, dtype)
    return pixels


def _bits(array):
    return array.view(np.uint16 if array.dtype == np.float16 else np.uint32)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_exr_round_trip_is_bit_exact(tmp_path, dtype):
    pixels = _special_floats(dtype)
    pattern = tmp_path / "plate.####.exr"
    with open_writer(pattern, _spec(pixels, "openexr"), [1001]) as writer:
        writer.write(1001, pixels)
    with open_frames(pattern) as reader:
        assert reader.spec.dtype == np.dtype(dtype)
        assert reader.spec.channel_names == ("R", "G", "B", "A")
        back = reader.read(1001)
    assert back.dtype == np.dtype(dtype) and back.shape == pixels.shape
    np.testing.assert_array_equal(_bits(back), _bits(pixels))


def test_exr_to_exr_through_reader_spec_keeps_everything(tmp_path):
    pixels = _special_floats(np.float16, channels=3)
    source = tmp_path / "in.exr"
    write_image(source, pixels, _spec(pixels, "openexr", (("shot:note", "take 3"),)).replace(fps=25.0))
    with open_frames(source) as reader:
        spec = reader.spec
        assert spec.attribute("shot:note") == "take 3"
        assert spec.fps == 25.0
        with open_writer(tmp_path / "out.exr", spec, reader.frame_numbers) as writer:
            for number, frame in reader:
                writer.write(number, frame)
    back, back_spec = read_image(tmp_path / "out.exr")
    np.testing.assert_array_equal(_bits(back), _bits(pixels))
    assert back_spec.attribute("shot:note") == "take 3"
    assert back_spec.fps == 25.0
    assert back_spec.attribute("Software") == "EmotionEdit"


def test_png_16bit_rgba_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 65536, (7, 5, 4), dtype=np.uint16)
    pixels[..., 3] = rng.integers(0, 65536, (7, 5))  # unassociated alpha must not touch RGB
    source = tmp_path / "a.png"
    write_image(source, pixels, _spec(pixels, "png", (("oiio:UnassociatedAlpha", 1),)))
    back, spec = read_image(source)
    assert spec.dtype == np.uint16 and spec.channels == 4 and spec.channel_names == ("R", "G", "B", "A")
    np.testing.assert_array_equal(back, pixels)
    # and again through open_writer with the reader's own spec
    with open_writer(tmp_path / "b.png", spec, [0]) as writer:
        writer.write(0, back)
    np.testing.assert_array_equal(read_image(tmp_path / "b.png")[0], pixels)


def test_tiff_and_dpx_keep_16bit(tmp_path):
    pixels = np.random.default_rng(5).integers(0, 65536, (4, 6, 3), dtype=np.uint16)
    for name, fmt in (("a.tif", "tiff"), ("a.dpx", "dpx")):
        write_image(tmp_path / name, pixels, _spec(pixels, fmt))
        back, spec = read_image(tmp_path / name)
        assert spec.dtype == np.uint16 and spec.format_name == fmt
        np.testing.assert_array_equal(back, pixels)


def test_float_plate_to_png_and_jpeg_is_clipped(tmp_path):
    pixels = np.array([[[-1.0, 0.5, 2.0, 0.25], [np.nan, 1.0, 0.0, 1.0]]], np.float32)
    write_image(tmp_path / "c.png", pixels, _spec(pixels, "openexr"))
    back, spec = read_image(tmp_path / "c.png")
    assert spec.dtype == np.uint16 and spec.channels == 4
    # premultiplied EXR -> PNG stores unpremultiplied colour: pixel 2 has alpha 1
    np.testing.assert_array_equal(back[0, 1], [0, 65535, 0, 65535])
    write_image(tmp_path / "c.jpg", pixels, _spec(pixels, "openexr"))
    back, spec = read_image(tmp_path / "c.jpg")
    assert spec.dtype == np.uint8 and spec.channels == 3


def test_atomic_write_leaves_only_finished_files(tmp_path):
    pixels = np.zeros((4, 4, 3), np.float16)
    pattern = tmp_path / "out" / "f.####.exr"
    with open_writer(pattern, _spec(pixels, "openexr"), range(1, 4)) as writer:
        for n in range(1, 4):
            writer.write(n, pixels)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["f.0001.exr", "f.0002.exr", "f.0003.exr"]


def test_failed_write_leaves_no_temporary(tmp_path, monkeypatch):
    import emotionedit.io.images as images

    pixels = np.zeros((4, 4, 3), np.float16)

    def boom(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(images.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_image(tmp_path / "x.exr", pixels, _spec(pixels, "openexr"))
    assert list(tmp_path.iterdir()) == []


def _truncate(path, keep=0.6):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.mark.parametrize("name", ["t.1001.png", "t.1001.exr", "t.1001.tif"])
def test_truncated_image_is_input_error_naming_file(tmp_path, name):
    rng = np.random.default_rng(6)
    if not name.endswith(".exr"):  # TIFF: OpenImageIO returns pixels *and* an error
        pixels = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        spec = _spec(pixels, "png")
    else:
        pixels = rng.standard_normal((64, 64, 3)).astype(np.float16)
        spec = _spec(pixels, "openexr")
    write_image(tmp_path / name, pixels, spec)
    _truncate(tmp_path / name)
    with pytest.raises(InputError, match=name.replace(".", r"\.")):
        read_image(tmp_path / name)
    reader = open_frames(tmp_path / name)  # the header is intact
    with pytest.raises(InputError, match="corrupt or truncated"):
        reader.read(1001)


def test_garbage_file_is_input_error(tmp_path):
    (tmp_path / "g.exr").write_bytes(b"definitely not an exr" * 4)
    with pytest.raises(InputError, match=r"g\.exr"):
        open_frames(tmp_path / "g.exr")
