"""The analysis file is read as untrusted input (issue 11, defect 6): sizes from the zip's directory before
anything is read, only known members read, every header field, shape, dtype, finiteness and range checked,
and a message (never a traceback, never a silent unedited render) before anything is written. Also: the
file is closed when it is cut short, and a failed save (a full disk) leaves nothing behind and no
half-closed zip complaining from its finaliser."""

from __future__ import annotations

import errno
import gc
import io
import json
import sys
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import emotionedit.analysis as analysis_module
from emotionedit.analysis import UNCHECKED, UNSTEADY, load, save
from emotionedit.cli import main
from emotionedit.errors import AnalysisMismatchError, UserError
from emotionedit.fingerprint import grid

FIRST = 672  # the `talking` fixture: franck's frames 672-719


@pytest.fixture(scope="module")
def saved(talking, tmp_path_factory) -> Path:
    """The `talking` analysis as a file."""
    path = tmp_path_factory.mktemp("analysis") / "talking.analysis.npz"
    save(talking[1], path)
    return path


def members(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, {name: array}) of an analysis file, read with NumPy (no checks)."""
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    return json.loads(bytes(arrays.pop("header")).decode()), arrays


def write(path: Path, header: dict, arrays: dict[str, np.ndarray]) -> Path:
    np.savez(path, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    return path


def render(franck_path, analysis: Path, out: Path) -> list[str]:
    return ["render", str(franck_path), "--frames", f"{FIRST}-{FIRST + 3}", "--analysis", str(analysis),
            "-o", str(out / "o.####.png")]


def test_a_saved_analysis_reads_back_whole(talking, saved):
    analysis = talking[1]
    loaded = load(saved)
    rows, columns = grid(288, 360)
    assert loaded.thumbnails.shape == (48, rows, columns) and loaded.thumbnails.dtype == np.uint8
    assert rows * columns <= 576  # "a few hundred bytes a frame"
    np.testing.assert_array_equal(loaded.thumbnails, analysis.thumbnails)
    np.testing.assert_array_equal(loaded.track.landmarks, analysis.track.landmarks)
    np.testing.assert_array_equal(loaded.fit.coefficients, analysis.fit.coefficients.astype(np.float32))
    np.testing.assert_array_equal(loaded.fit.rotation, analysis.fit.rotation)
    np.testing.assert_array_equal(loaded.occluders.hands, analysis.occluders.hands)
    assert loaded.plate == analysis.plate
    assert set(analysis.fine_shading) == {"smile", "brow_raise"}
    assert loaded.fine_shading == analysis.fine_shading


def test_an_analysis_written_before_the_plates_fine_shading_was_measured_reads_without_it(saved, tmp_path):
    """Files from before the measure have no "fine_shading" in their header: read as not measured (None), their
    shots take the skin detail at its full depth as they always did."""
    header, arrays = members(saved)
    del header["fine_shading"]
    assert load(write(tmp_path / "older.analysis.npz", header, arrays)).fine_shading is None


def _drop(name):
    def change(header, arrays):
        del arrays[name]
    return change


def _header_field(*keys):
    def change(header, arrays):
        holder = header
        for key in keys[:-1]:
            holder = holder[key]
        del holder[keys[-1]]
    return change


def _set(name, index, value):
    def change(header, arrays):
        array = arrays[name].copy()
        array[index] = value
        arrays[name] = array
    return change


def _replace(name, make):
    def change(header, arrays):
        arrays[name] = make(arrays[name])
    return change


def _header(key, value):
    def change(header, arrays):
        header[key] = value
    return change


def _raw_header(raw: bytes):
    def change(header, arrays):
        return raw
    return change


# (what is wrong, the change, what the message must say)
DAMAGE = [
    ("no scale array", _drop("scale"), "no 'scale' array"),
    ("no thumbnails in format 3", _drop("thumbnails"), "no 'thumbnails' array"),
    ("no tracker name", _header_field("tracker"), "tracker"),
    ("no frame numbers", _header_field("plate", "frame_numbers"), "frame numbers"),
    ("no frame rate", _header_field("plate", "fps"), "frame rate"),
    ("no smile_removed", _header_field("smile_removed"), "smile_removed"),
    ("a width that is text", _header("plate", {"path": "p", "width": "360", "height": 288,
                                               "frame_numbers": list(range(FIRST, FIRST + 48)), "fps": 24.0}),
     "width is '360'"),
    ("frame numbers twice", _header("plate", {"path": "p", "width": 360, "height": 288,
                                              "frame_numbers": [FIRST] * 48, "fps": 24.0}), "not increasing"),
    ("a header that is not JSON", _raw_header(b"{not json"), "header is not JSON"),
    ("a header that is a list", _raw_header(b"[1, 2]"), "not an EmotionEdit analysis file"),
    ("landmarks of another mesh", _replace("landmarks", lambda x: x[:, :468]),
     "'landmarks' array has shape (48, 468, 3), expected (48, 478, 3)"),
    ("frames disagree", _replace("coefficients", lambda x: x[:-1]), "'coefficients' array has shape (47, 17)"),
    ("complex coefficients", _replace("coefficients", lambda x: x.astype(np.complex64)), "holds complex64"),
    ("text flags", _replace("flags", lambda x: x.astype("U1")), "'flags' array holds <U1"),
    ("NaN coefficients", _set("coefficients", (5, 3), np.nan), f"frame {FIRST + 5}: the action-unit coefficients"),
    ("huge coefficients", _replace("coefficients", lambda x: np.full_like(x, 1e30)), "beyond +-10"),
    ("scale 0", _replace("scale", np.zeros_like), "scale is not finite or outside 1"),
    ("NaN scale", _set("scale", 7, np.nan), f"frame {FIRST + 7}: the face's scale"),
    ("a rotation that is not one", _replace("rotation", lambda x: 2 * x), "not a rotation"),
    ("an infinite translation", _set("translation", (2, 0), np.inf), f"frame {FIRST + 2}: the head's position"),
    ("NaN landmarks of a found face", _set("landmarks", (9, 100, 0), np.nan), f"frame {FIRST + 9}: a found face"),
    ("a NaN neutral face", _set("neutral", (4, 1), np.nan), "neutral face is not finite"),
    ("an unknown flag", _set("flags", 3, 9), "flags are [9]"),
    ("a usable frame without a face", _set("found", 3, False), "marked usable (flags 0) but its face was not found"),
    ("resting frames beyond the shot", _replace("neutral_frames", lambda x: x + 1000), "resting frames"),
    ("an infinite hand", _set("hands", (1, 0, 0, 0), np.inf), f"frame {FIRST + 1}: a hand"),
    ("thumbnails of another size", _replace("thumbnails", lambda x: x[:, :10]), "'thumbnails' array has shape"),
    ("a negative fine shading", _header("fine_shading", {"smile": -0.1}), "fine_shading is \"{'smile': -0.1}\""),
    ("a fine shading that is text", _header("fine_shading", "sharp"), "fine_shading is 'sharp'"),
]


def _damaged_file(saved: Path, tmp_path: Path, change) -> Path:
    header, arrays = members(saved)
    path = tmp_path / "damaged.analysis.npz"
    raw = change(header, arrays)
    if raw is not None:
        np.savez(path, header=np.frombuffer(raw, np.uint8), **arrays)
        return path
    return write(path, header, arrays)


@pytest.mark.parametrize(("name", "change", "says"), DAMAGE, ids=[d[0] for d in DAMAGE])
def test_a_damaged_analysis_is_refused_by_name(saved, tmp_path, name, change, says):
    path = _damaged_file(saved, tmp_path, change)
    with pytest.raises(UserError) as refused:
        load(path)
    text = str(refused.value)
    assert str(path) in text and says in text, text
    assert "re-run `emotionedit analyze`" in text or "not an EmotionEdit analysis file" in text, text


@pytest.mark.parametrize(("name", "change", "says"), DAMAGE, ids=[d[0] for d in DAMAGE])
def test_render_with_a_damaged_analysis_exits_2_before_writing(saved, tmp_path, franck_path, capsys, name, change,
                                                              says):
    path = _damaged_file(saved, tmp_path, change)
    out = tmp_path / "out"
    code = main(render(franck_path, path, out))
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and str(path) in err and says in err, err
    assert not out.exists() or not list(out.iterdir())


def test_an_empty_file_is_a_message(tmp_path):
    empty = tmp_path / "empty.analysis.npz"
    empty.write_bytes(b"")
    with pytest.raises(UserError, match="empty"):
        load(empty)


def test_a_cut_short_file_is_refused_and_closed(saved, tmp_path):
    data = saved.read_bytes()
    for cut_at in (len(data) // 2, len(data) - 10):
        cut = tmp_path / f"cut{cut_at}.analysis.npz"
        cut.write_bytes(data[:cut_at])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(UserError) as refused:
                load(cut)
            message = str(refused.value)
            del refused
            gc.collect()
        leaked = [w for w in caught if issubclass(w.category, ResourceWarning)]
        assert not leaked, [str(w.message) for w in leaked]  # the file was left open
        assert "cut short" in message and str(cut) in message


def _deflated_member(path: Path, name: str, shape: tuple[int, ...], dtype=np.float32) -> None:
    """Append a valid .npy member of zeros, deflated (it inflates to its full size when read)."""
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive, archive.open(name, "w", force_zip64=True) as out:
        np.lib.format.write_array_header_1_0(out, {"descr": np.dtype(dtype).str, "fortran_order": False,
                                                   "shape": shape})
        block = bytes(1 << 20)
        left = int(np.prod(shape)) * np.dtype(dtype).itemsize
        while left:
            out.write(block[:min(left, len(block))])
            left -= min(left, len(block))


def _peak_mib(function) -> tuple[float, BaseException | None]:
    """(peak MiB Python and NumPy allocated while ``function`` ran, what it raised or None)."""
    raised = None
    tracemalloc.start()
    try:
        function()
    except Exception as exc:
        raised = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / (1 << 20), raised


def test_an_unknown_member_that_inflates_is_never_read(saved, tmp_path):
    """A small file that inflates to 256 MiB through a member no analysis has: it is not even read."""
    bomb = tmp_path / "bomb.analysis.npz"
    bomb.write_bytes(saved.read_bytes())
    _deflated_member(bomb, "junk.npy", (64, 1 << 20))
    assert bomb.stat().st_size < 2 * saved.stat().st_size
    result = []
    peak, raised = _peak_mib(lambda: result.append(load(bomb)))
    assert raised is None and peak < 32, (peak, raised)
    assert result[0].plate.frame_numbers[0] == FIRST


def test_a_known_member_that_inflates_is_refused_from_its_size(saved, tmp_path):
    """'coefficients' that would inflate to 256 MiB: refused from the zip's directory, before it is read."""
    header, arrays = members(saved)
    del arrays["coefficients"]
    bomb = write(tmp_path / "bomb.analysis.npz", header, arrays)
    _deflated_member(bomb, "coefficients.npy", (1 << 22, 16))
    peak, raised = _peak_mib(lambda: load(bomb))
    assert isinstance(raised, UserError) and peak < 32, (peak, raised)
    assert "'coefficients' array takes 268435584 bytes where this analysis's coefficients fits in" in str(raised)
    # And its .npy header alone is not trusted either: a member of the right size claiming another shape.
    header, arrays = members(saved)
    arrays["coefficients"] = arrays["coefficients"].reshape(-1)[: 48 * 17].reshape(17, 48)
    with pytest.raises(UserError, match=r"shape \(17, 48\), expected \(48, 17\)"):
        load(write(tmp_path / "transposed.analysis.npz", header, arrays))


@pytest.mark.parametrize(("mib", "says"), [(80, "'header' array takes 83886208 bytes where"),
                                           (60, "'header' array inflates from")])
def test_a_header_that_would_inflate_is_refused(saved, tmp_path, mib, says):
    """Larger than any header may be, or within that but inflating far past its stored size."""
    _, arrays = members(saved)
    bomb = tmp_path / "header-bomb.analysis.npz"
    np.savez(bomb, **arrays)
    _deflated_member(bomb, "header.npy", (mib << 20,), np.uint8)
    peak, raised = _peak_mib(lambda: load(bomb))
    assert isinstance(raised, UserError) and peak < 32, (peak, raised)
    assert says in str(raised)


def test_other_versions_and_fingerprint_methods(saved, tmp_path):
    header, arrays = members(saved)
    header["version"] = 4
    with pytest.raises(AnalysisMismatchError, match="version 4, this EmotionEdit reads version 3"):
        load(write(tmp_path / "v4.npz", header, arrays))
    header, arrays = members(saved)
    header["fingerprint"]["cells"] = 32
    with pytest.raises(AnalysisMismatchError, match="fingerprint .* re-run `emotionedit analyze`"):
        load(write(tmp_path / "cells.npz", header, arrays))


def version_2(saved: Path, path: Path) -> Path:
    """The file as EmotionEdit wrote it before the fingerprint (analysis format 2)."""
    header, arrays = members(saved)
    header["version"] = 2
    del header["fingerprint"]
    del arrays["thumbnails"]
    return write(path, header, arrays)


def test_a_version_2_file_is_read_and_rendered_with_a_warning(saved, tmp_path, franck_path, capsys):
    old = version_2(saved, tmp_path / "v2.analysis.npz")
    loaded = load(old)
    assert loaded.thumbnails is None and loaded.fit.flags.shape == (48,)
    out = tmp_path / "out"
    assert main(render(franck_path, old, out)) == 0
    err = capsys.readouterr().err
    assert f"warning: analysis file {old}" in err and UNCHECKED in err
    assert len(list(out.iterdir())) == 4


def test_a_file_from_before_the_steady_landmarks_renders_and_says_so(saved, tmp_path, franck_path, capsys):
    """Analyses now record that their points were made steady with the picture's flow; one written before (no
    such header field) still renders, with a note that analysing again gives steadier edits."""
    assert load(saved).steady
    assert main(render(franck_path, saved, tmp_path / "now")) == 0
    assert UNSTEADY not in capsys.readouterr().err
    header, arrays = members(saved)
    del header["landmarks"]
    old = write(tmp_path / "before.analysis.npz", header, arrays)
    assert not load(old).steady
    assert main(render(franck_path, old, tmp_path / "before")) == 0
    assert f"note: analysis file {old}: {UNSTEADY}" in capsys.readouterr().err


class _FullDisk(io.RawIOBase):
    """A file that takes ``room`` bytes, then fails every write with ENOSPC (a full disk)."""

    def __init__(self, path, room: int):
        self._file = io.FileIO(path, "w")
        self._room = room

    def writable(self):
        return True

    def seekable(self):
        return True

    def write(self, data):
        if len(data) > self._room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(data)
        return self._file.write(data)

    def seek(self, offset, whence=0):
        return self._file.seek(offset, whence)

    def tell(self):
        return self._file.tell()

    def close(self):
        self._file.close()
        super().close()


@pytest.mark.parametrize("room", [0, 1000, 100_000, 250_000])
def test_save_on_a_full_disk_raises_and_leaves_nothing(talking, tmp_path, monkeypatch, room):
    monkeypatch.setattr(analysis_module, "open", lambda path, mode: io.BufferedWriter(_FullDisk(path, room)),
                        raising=False)
    complaints = []
    monkeypatch.setattr(sys, "unraisablehook", complaints.append)
    target = tmp_path / "a.analysis.npz"
    with pytest.raises(OSError) as failed:
        save(talking[1], target)
    del failed
    gc.collect()
    assert [c.exc_value for c in complaints] == []  # no "Exception ignored in ZipFile.__del__"
    assert list(tmp_path.iterdir()) == []  # neither the file nor its .partial
