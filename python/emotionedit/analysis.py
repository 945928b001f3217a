"""The per-shot analysis file: tracked once by ``analyze``, rendered many times by ``render``.

A NumPy ``.npz`` archive (a zip of ``.npy`` members, no pickles) holding a JSON header and a
few arrays: landmarks (T x 478 x 3 float32), pose (scale, rotation, translation), AU
coefficients, quality flags, the actor's neutral face, the hands seen in each frame
(occluders, T x 2 x 21 x 2 float32) and the plate's fingerprint (a tiny grayscale thumbnail
per frame, T x rows x columns uint8, :mod:`emotionedit.fingerprint`). About 6.8 KB per frame, and once per shot
the frame that shows the upper teeth best (a crop of its mouth, :mod:`emotionedit.render.upper_teeth`).

:func:`load` trusts nothing in the file: every member's size is checked in the zip's
directory before it is read, only the members named here are read, and every array's
dtype, shape, finiteness and range is checked (:func:`_validated`) before an
:class:`Analysis` is returned, so a damaged or foreign file is refused with a message before
anything is rendered or written.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import fingerprint
from .errors import AnalysisMismatchError, UserError
from .fit import AUS, BASIS_REVISION, FLAG_LOST, FLAG_PROFILE, FLAG_UNRELIABLE, ShotFit
from .render.upper_teeth import MAX_CROP_SIDE, MAX_TEETH_VALUE, UpperTeeth
from .track import FaceTrack
from .track.occluders import HAND_POINTS, MAX_HANDS, OccluderTrack

FORMAT = "emotionedit-analysis"
# 2: adds the hands in front of the face ("hands", "occluder_tracker"); version 1 files lack them.
# 3: adds the plate's fingerprint ("thumbnails", "fingerprint"); version 2 files are read without it
#    (their plate cannot be checked: see UNCHECKED).
VERSION = 3
#: What a command or the node says about an analysis without the plate's fingerprint (format 2).
UNCHECKED = ("it was written by an older EmotionEdit (analysis format 2) without the plate's fingerprint, so "
             "whether its frames are this plate's frames cannot be checked; re-run `emotionedit analyze` to have "
             "every rendered frame checked against it")


@dataclass
class PlateInfo:
    """What the analysis was made from, to refuse a plate it does not belong to."""

    path: str
    width: int
    height: int
    frame_numbers: list[int]
    fps: float


@dataclass
class Analysis:
    plate: PlateInfo
    track: FaceTrack
    fit: ShotFit
    tracker: str
    #: Hands per frame (None: not tracked; then nothing is protected from the edit but the holdout).
    occluders: OccluderTrack | None = None
    #: The plate's fingerprint, (T, rows, columns) uint8 (:func:`emotionedit.fingerprint.thumbnail` of
    #: each frame); None: not recorded (analysis format 2), the plate cannot be checked.
    thumbnails: np.ndarray | None = None
    #: Whether the landmarks were made steady with the views' optical flow (track/stabilise.py); False for files
    #: written before it (their header lacks "landmarks": "flow-steadied"), whose anchors keep the tracker's shake.
    steady: bool = False
    #: The plate's fine shading where each skin detail map's creases are (map name -> rms log luminance,
    #: render/skin_depth.py), which sets how deep the maps shade this shot; None: not measured (files written
    #: before it), every map at its full depth.
    fine_shading: dict[str, float] | None = None
    #: The shot's frame that shows the most upper teeth, its mouth's crop (render/upper_teeth.py); None: no frame shows
    #: enough, or files written before it (the interior under a lifted lip is then shaded, not filled).
    upper_teeth: UpperTeeth | None = None

    def index_of(self, frame_number: int) -> int:
        """Position of a plate frame number in the analysis (raises if it was not analysed)."""
        try:
            return self._index[frame_number]
        except AttributeError:
            self._index = {n: i for i, n in enumerate(self.plate.frame_numbers)}
            return self.index_of(frame_number)
        except KeyError:
            numbers = self.plate.frame_numbers
            raise AnalysisMismatchError(
                f"frame {frame_number} is not in the analysis, which covers frames {numbers[0]}-{numbers[-1]} "
                "; re-run `emotionedit analyze` over the frames you render"
            ) from None

    def check_plate(self, width: int, height: int, frame_numbers: list[int]) -> None:
        """Refuse a plate of another size or frames the analysis does not cover."""
        if (width, height) != (self.plate.width, self.plate.height):
            raise AnalysisMismatchError(
                f"the analysis was made on a {self.plate.width}x{self.plate.height} plate "
                f"({self.plate.path}) but this plate is {width}x{height}; analyse this plate instead"
            )
        known = set(self.plate.frame_numbers)
        missing = [n for n in frame_numbers if n not in known]
        if missing:
            first, last = self.plate.frame_numbers[0], self.plate.frame_numbers[-1]
            raise AnalysisMismatchError(
                f"frames {missing[0]}..{missing[-1]} ({len(missing)} frames) are not in the analysis, which covers "
                f"{first}-{last}; use --frames within that range or re-run `emotionedit analyze`"
            )

    def summary(self) -> dict:
        flags = self.fit.flags
        return {
            "frames": len(flags),
            "edited": int((flags == 0).sum()),
            "lost": int((flags & 1 != 0).sum()),
            "profile": int((flags & 2 != 0).sum()),
            "unreliable": int((flags & 4 != 0).sum()),
            "several_faces": int((self.track.faces_seen > 1).sum()),
        }


#: Face landmarks per frame (MediaPipe's face mesh).
POINTS = 478
#: The largest JSON header read (a million frame numbers take about 9 MB).
MAX_HEADER_BYTES = 64 << 20
#: The largest ``.npy`` header of a member (NumPy writes about 128 bytes).
MAX_NPY_HEADER = 1 << 16
#: A compressed member may inflate at most this many times its stored size, plus 1 MiB (``save`` stores).
MAX_INFLATION = 64
#: The most frames an analysis may hold (about 6 GB of landmarks).
MAX_FRAMES = 1_000_000
#: Largest plate side, in pixels.
MAX_SIDE = 1 << 17
#: Largest |AU coefficient| (and ``smile_removed``): real fits stay under about 2, the edit saturates at 3.
MAX_COEFFICIENT = 10.0
#: Largest |coordinate| of the canonical neutral face, in inter-ocular distances (a real one spans -1.2..2.1).
MAX_NEUTRAL = 10.0
#: Landmarks, hands and translations lie within this many plate sizes of the plate's origin.
MAX_REACH = 10.0
#: Smallest scale (plate pixels per inter-ocular distance) of a usable frame: eyes a pixel apart.
MIN_SCALE = 1.0
#: Largest fine shading of a plate (rms log luminance; real plates read 0.05-0.2).
MAX_FINE_SHADING = 10.0
#: How far a usable frame's rotation may be from orthonormal (largest |R R^T - I| element).
ROTATION_TOLERANCE = 1e-3
_FLAGS = FLAG_LOST | FLAG_PROFILE | FLAG_UNRELIABLE
_RECREATE = "re-run `emotionedit analyze` on the plate to recreate it"
#: The header's "landmarks" of an analysis whose points were made steady (track/stabilise.py).
STEADY_LANDMARKS = "flow-steadied"
#: What `render` says of an analysis written before the landmarks were made steady.
UNSTEADY = ("it was written before the tracked points were made steady with the picture's optical flow "
            "(EmotionEdit before 2026-12-03); it renders, but re-run `emotionedit analyze` for steadier edits")
#: How the plate's fingerprint was made (format 3 headers record it; a file with another recipe is refused).
_FINGERPRINT = {"method": fingerprint.METHOD, "cells": fingerprint.CELLS, "samples": fingerprint.SAMPLES}


def save(analysis: Analysis, path: Path, overwrite: bool = False) -> None:
    """Write atomically; refuse to replace an existing file unless ``overwrite``.

    The archive is written to ``path`` + ``.partial`` and renamed. A failed write (a full disk)
    raises its ``OSError`` and leaves neither file; the zip is closed on every path, so no
    half-closed archive is left to complain from its finaliser (``np.savez`` leaves one, which
    prints "Exception ignored in ZipFile.__del__" long after the error).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        from .errors import OutputExistsError

        raise OutputExistsError(f"{path} exists; pass --overwrite to replace it")
    header = {
        "format": FORMAT,
        "version": VERSION,
        "tracker": analysis.tracker,
        "plate": analysis.plate.__dict__,
        "aus": list(AUS),
        "basis_revision": BASIS_REVISION,
        "smile_removed": analysis.fit.smile_removed,
        # With a resting face from another take: how well its skull fit this shot's (IOD); else None.
        "neutral_match": None if np.isnan(analysis.fit.neutral_match) else analysis.fit.neutral_match,
        "occluder_tracker": None if analysis.occluders is None else analysis.occluders.detector,
        "fingerprint": None if analysis.thumbnails is None else _FINGERPRINT,
        "landmarks": STEADY_LANDMARKS if analysis.steady else "tracked",
        "fine_shading": analysis.fine_shading,
        "upper_teeth": None if analysis.upper_teeth is None else {
            "frame": analysis.upper_teeth.frame, "x0": analysis.upper_teeth.x0, "y0": analysis.upper_teeth.y0,
            "exposure": analysis.upper_teeth.exposure, "linear": analysis.upper_teeth.linear},
    }
    arrays = {
        "header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
        "landmarks": np.asarray(analysis.track.landmarks, dtype=np.float32),  # no copy: written as they are
        "found": analysis.track.found,
        "faces_seen": analysis.track.faces_seen,
        "neutral": analysis.fit.neutral,
        "scale": analysis.fit.scale,
        "rotation": analysis.fit.rotation,
        "translation": analysis.fit.translation,
        "coefficients": analysis.fit.coefficients.astype(np.float32),
        "flags": analysis.fit.flags,
        "neutral_frames": analysis.fit.neutral_frames,
    }
    if analysis.occluders is not None:
        arrays["hands"] = np.asarray(analysis.occluders.hands, dtype=np.float32)
    if analysis.thumbnails is not None:
        arrays["thumbnails"] = np.asarray(analysis.thumbnails, dtype=np.uint8)
    if analysis.upper_teeth is not None:
        arrays["teeth_pixels"] = np.asarray(analysis.upper_teeth.pixels, dtype=np.float32)
        arrays["teeth_alpha"] = np.asarray(analysis.upper_teeth.alpha, dtype=np.float32)
        if analysis.upper_teeth.light is not None:
            arrays["teeth_light"] = np.asarray(analysis.upper_teeth.light, dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        # The same archive as np.savez (stored .npy members), but every writer is closed on failure too.
        with open(partial, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, array in arrays.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
        os.replace(partial, path)
    except BaseException:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
        raise



def load(path: Path) -> Analysis:
    """Read an analysis file; anything that is not a whole analysis of ours is refused with a message.

    Raises :class:`UserError` (:class:`AnalysisMismatchError` for another format version, basis or
    fingerprint method) naming the file, what was expected, what arrived and what to do. Sizes come
    from the zip's directory before anything is read; only known members are read; the file is
    closed on every path.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"analysis file {path} does not exist; create it with `emotionedit analyze`")
    if path.stat().st_size == 0:
        raise UserError(f"analysis file {path} is empty (0 bytes; a write that never finished?); "
                        "run `emotionedit analyze` again to recreate it")
    try:
        with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
            return _read(archive, path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise UserError(f"{path} is not an EmotionEdit analysis file, or it is damaged or cut short ({exc}); "
                        f"{_RECREATE}") from None


def _damaged(path: Path, text: str) -> UserError:
    return UserError(f"analysis file {path} is damaged or was not written by EmotionEdit: {text}; {_RECREATE}")


@dataclass(frozen=True)
class _Spec:
    """What one member must hold: its shape (None: any length up to ``longest``), the dtype kinds
    accepted ("f" float, "b" bool, "iu" integers) and the dtype it is read as."""

    shape: tuple[int | None, ...]
    kinds: str
    dtype: type
    required: bool = True
    longest: int = 0
    bound: int = 0  # the most bytes its elements may take (0: as its shape allows)

    def most_bytes(self) -> int:
        """The largest member this array can be: every element in the widest dtype accepted, and a header."""
        if self.bound:
            return 2 * self.bound + MAX_NPY_HEADER
        count = math.prod(self.longest if n is None else n for n in self.shape)
        return count * (1 if self.kinds == "u" and self.dtype == np.uint8 else 8) + MAX_NPY_HEADER


def _read(archive: zipfile.ZipFile, path: Path) -> Analysis:
    members = {info.filename: info for info in archive.infolist()}
    header_spec = _Spec((None,), "u", np.uint8, longest=MAX_HEADER_BYTES)
    if "header.npy" not in members:
        raise UserError(f"{path} is not an EmotionEdit analysis file (it has no header); {_RECREATE}")
    _check_size(members["header.npy"], "header", header_spec, path)
    raw = _read_array(archive, members["header.npy"], "header", header_spec, path)
    try:
        header = json.loads(raw.tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _damaged(path, f"its header is not JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise UserError(f"{path} is not an EmotionEdit analysis file")
    version = _check_version(header, path)
    plate = _plate(header, path)
    frames = len(plate.frame_numbers)
    specs = {
        "landmarks": _Spec((frames, POINTS, 3), "f", np.float32),
        "found": _Spec((frames,), "b", np.bool_),
        "faces_seen": _Spec((frames,), "iu", np.int16),
        "neutral": _Spec((POINTS, 3), "f", np.float64),
        "scale": _Spec((frames,), "f", np.float64),
        "rotation": _Spec((frames, 3, 3), "f", np.float64),
        "translation": _Spec((frames, 3), "f", np.float64),
        "coefficients": _Spec((frames, len(AUS)), "f", np.float64),
        "flags": _Spec((frames,), "iu", np.uint8),
        "neutral_frames": _Spec((None,), "iu", np.int64, longest=frames),
        "hands": _Spec((frames, MAX_HANDS, HAND_POINTS, 2), "f", np.float32, required=False),
        "thumbnails": _Spec((frames, *fingerprint.grid(plate.height, plate.width)), "u", np.uint8,
                            required=version >= 3),
        # The upper teeth's crop: a mouth, at most MAX_CROP_SIDE a side and four channels (the header says where).
        "teeth_pixels": _Spec((None, None, None), "f", np.float32, required=False, longest=MAX_CROP_SIDE,
                              bound=4 * MAX_CROP_SIDE * MAX_CROP_SIDE * 4),
        "teeth_alpha": _Spec((None, None), "f", np.float32, required=False, longest=MAX_CROP_SIDE,
                             bound=MAX_CROP_SIDE * MAX_CROP_SIDE * 4),
        "teeth_light": _Spec((frames, 3), "f", np.float32, required=False),
    }
    # Every member's size from the zip's directory before any array is read; unknown members are never read.
    for name, spec in specs.items():
        info = members.get(f"{name}.npy")
        if info is None:
            if spec.required:
                raise _damaged(path, f"it has no '{name}' array (an analysis of format {version} always has one)")
            continue
        _check_size(info, name, spec, path)
    arrays = {name: _read_array(archive, members[f"{name}.npy"], name, spec, path)
              for name, spec in specs.items() if f"{name}.npy" in members}
    return _validated(header, plate, arrays, path)


def _check_version(header: dict, path: Path) -> int:
    version = header.get("version")
    if version == 1:
        raise AnalysisMismatchError(
            f"{path} is analysis format version 1, which does not record hands in front of the face (this "
            f"EmotionEdit reads version {VERSION} and keeps hands from being warped); re-run `emotionedit analyze`"
        )
    if type(version) is not int or version not in (2, VERSION):
        raise AnalysisMismatchError(
            f"{path} is analysis format version {version}, this EmotionEdit reads version {VERSION} (and 2); "
            "re-run `emotionedit analyze` with this version"
        )
    # Files written before the revision was recorded were fitted with revision 1.
    revision = header.get("basis_revision", 1)
    if header.get("aus") != list(AUS) or revision != BASIS_REVISION:
        raise AnalysisMismatchError(
            f"{path} was fitted with action-unit basis revision {revision}, this EmotionEdit edits with revision "
            f"{BASIS_REVISION}; re-run `emotionedit analyze` to fit it again (tracking is unchanged)"
        )
    if version >= 3 and header.get("fingerprint") != _FINGERPRINT:
        raise AnalysisMismatchError(
            f"{path} records the plate's fingerprint as {header.get('fingerprint')}, this EmotionEdit checks plates "
            f"with {_FINGERPRINT}; re-run `emotionedit analyze` with this version"
        )
    return version


def _is_number(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _plate(header: dict, path: Path) -> PlateInfo:
    plate = header.get("plate")
    if not isinstance(plate, dict):
        raise _damaged(path, f"its header has no plate description (got {type(plate).__name__})")
    numbers = plate.get("frame_numbers")
    width, height = plate.get("width"), plate.get("height")
    for name, value in (("width", width), ("height", height)):
        if type(value) is not int or not 1 <= value <= MAX_SIDE:
            raise _damaged(path, f"its plate {name} is {value!r}, expected a whole number of pixels 1..{MAX_SIDE}")
    if not isinstance(numbers, list) or not 1 <= len(numbers) <= MAX_FRAMES:
        count = len(numbers) if isinstance(numbers, list) else type(numbers).__name__
        raise _damaged(path, f"its plate's frame numbers are {count}, expected a list of 1..{MAX_FRAMES} frames")
    if not all(type(n) is int for n in numbers):
        bad = next(n for n in numbers if type(n) is not int)
        raise _damaged(path, f"its plate's frame numbers hold {bad!r}, expected whole numbers")
    if any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)):
        raise _damaged(path, "its plate's frame numbers are not increasing (a frame listed twice?)")
    fps = plate.get("fps")
    if not _is_number(fps) or fps < 0:
        raise _damaged(path, f"its plate's frame rate is {fps!r}, expected a finite number of frames per second")
    if not isinstance(plate.get("path"), str) or not isinstance(header.get("tracker"), str):
        raise _damaged(path, "its header lacks the plate's path or the tracker's name")
    for name in ("smile_removed", "neutral_match"):
        value = header.get(name)
        if not (value is None and name == "neutral_match") and not (_is_number(value) and
                                                                   abs(value) <= MAX_COEFFICIENT):
            raise _damaged(path, f"its header's {name} is {value!r}, expected a finite number within "
                           f"+-{MAX_COEFFICIENT:g}" + (" or null" if name == "neutral_match" else ""))
    if header.get("occluder_tracker") is not None and not isinstance(header["occluder_tracker"], str):
        raise _damaged(path, f"its header's occluder_tracker is {header['occluder_tracker']!r}, expected a name")
    return PlateInfo(path=plate["path"], width=width, height=height, frame_numbers=numbers, fps=float(fps))


def _check_size(info: zipfile.ZipInfo, name: str, spec: _Spec, path: Path) -> None:
    """Refuse a member larger than its array can be, or one that inflates far past its stored size."""
    most = spec.most_bytes()
    if info.file_size > most:
        raise _damaged(path, f"its '{name}' array takes {info.file_size} bytes where this analysis's "
                       f"{name} fits in {most}")
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > MAX_INFLATION * info.compress_size + (1 << 20):
        raise _damaged(path, f"its '{name}' array inflates from {info.compress_size} to {info.file_size} bytes "
                       "(analysis files are written uncompressed)")


def _read_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, spec: _Spec, path: Path) -> np.ndarray:
    """The member's array, its .npy header checked against ``spec`` before its data are read."""
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member, max_header_size=MAX_NPY_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member, max_header_size=MAX_NPY_HEADER)
        else:
            raise _damaged(path, f"its '{name}' array is in .npy format {version}, expected 1.0 or 2.0")
        expected = tuple(f"up to {spec.longest}" if n is None else n for n in spec.shape)
        fits = len(shape) == len(spec.shape) and all(
            (0 <= got <= spec.longest) if want is None else got == want
            for got, want in zip(shape, spec.shape, strict=True))
        if not fits:
            raise _damaged(path, f"its '{name}' array has shape {shape}, expected {expected}")
        if dtype.hasobject or dtype.fields is not None or dtype.kind not in spec.kinds or dtype.itemsize > 8:
            raise _damaged(path, f"its '{name}' array holds {dtype}, expected {np.dtype(spec.dtype)}")
        count = math.prod(shape)
        size = count * dtype.itemsize
        if info.file_size - member.tell() != size:
            raise _damaged(path, f"its '{name}' array should hold {size} bytes of {dtype} but has "
                           f"{info.file_size - member.tell()}")
        data = np.empty(count, dtype)
        view = memoryview(data).cast("B")
        done = 0
        while done < size:
            got = member.readinto(view[done:])
            if not got:
                raise _damaged(path, f"its '{name}' array ends after {done} of {size} bytes")
            done += got
    return data.reshape(shape, order="F" if fortran else "C")


def _frames(plate: PlateInfo, bad: np.ndarray) -> str:
    """'frame 1005' or 'frames 1005, 1009 (3 frames)' for a (T,) bool of bad frames."""
    where = [plate.frame_numbers[i] for i in np.flatnonzero(bad)[:3]]
    count = int(bad.sum())
    if count == 1:
        return f"frame {where[0]}"
    return f"frames {', '.join(map(str, where))}{', ...' if count > 3 else ''} ({count} frames)"


def _validated(header: dict, plate: PlateInfo, arrays: dict[str, np.ndarray], path: Path) -> Analysis:
    """Check every value the render and the node use, then build the :class:`Analysis`."""
    frames = len(plate.frame_numbers)
    reach = MAX_REACH * max(plate.width, plate.height)

    def per_frame(values: np.ndarray) -> np.ndarray:
        return values.reshape(frames, -1)

    def refuse(where: np.ndarray, text: str) -> None:
        if where.any():
            raise _damaged(path, f"{_frames(plate, where)}: {text}")

    def outside(values: np.ndarray, low: float, high: float) -> np.ndarray:
        """(T,) bool: frames with a value that is not finite or not within [low, high] (NaN fails both)."""
        flat = per_frame(values)
        bad = np.empty(frames, bool)
        for start in range(0, frames, 4096):  # bounded temporaries for long shots
            part = flat[start : start + 4096]
            with np.errstate(invalid="ignore"):
                bad[start : start + 4096] = ~((part >= low) & (part <= high)).all(axis=1)
        return bad

    flags = arrays["flags"].astype(np.int64)
    unknown = (flags < 0) | (flags & ~_FLAGS != 0)
    refuse(unknown, f"its flags are {sorted(set(flags[unknown].tolist()))[:3]}, expected a mask of 1 (lost), "
           "2 (profile) and 4 (unreliable)")
    found = arrays["found"]
    usable = flags == 0
    refuse(usable & ~found, "marked usable (flags 0) but its face was not found")
    refuse(found & outside(arrays["landmarks"], -reach, reach),
           f"a found face's landmarks are not finite or lie more than {MAX_REACH:g} plate sizes away")
    refuse(usable & outside(arrays["scale"], MIN_SCALE, reach),
           f"the face's scale is not finite or outside {MIN_SCALE:g}..{reach:g} plate pixels per inter-ocular "
           "distance (0 would leave every frame unedited)")
    rotation = arrays["rotation"]
    refuse(usable & outside(rotation, -1.0 - ROTATION_TOLERANCE, 1.0 + ROTATION_TOLERANCE),
           "the head's rotation is not finite or not a rotation")
    with np.errstate(invalid="ignore"):
        gram = np.abs(rotation @ np.swapaxes(rotation, 1, 2) - np.eye(3)).reshape(frames, -1).max(axis=1)
        determinant = np.linalg.det(np.where(np.isfinite(rotation), rotation, 0.0))
    refuse(usable & ~((gram <= ROTATION_TOLERANCE) & (determinant > 0)),
           f"the head's rotation is not a rotation (R R^T differs from I by more than {ROTATION_TOLERANCE:g})")
    refuse(usable & outside(arrays["translation"], -reach, reach),
           f"the head's position is not finite or more than {MAX_REACH:g} plate sizes away")
    refuse(usable & outside(arrays["coefficients"], -MAX_COEFFICIENT, MAX_COEFFICIENT),
           f"the action-unit coefficients are not finite or beyond +-{MAX_COEFFICIENT:g} (real faces stay under 3; "
           "huge values would leave every frame unedited)")
    faces_seen = arrays["faces_seen"].astype(np.int64)
    refuse((faces_seen < 0) | (faces_seen > np.iinfo(np.int16).max), "its count of faces seen is negative or huge")
    neutral = arrays["neutral"]
    with np.errstate(invalid="ignore"):
        if not (np.isfinite(neutral) & (np.abs(neutral) <= MAX_NEUTRAL)).all():
            raise _damaged(path, f"its neutral face is not finite or beyond +-{MAX_NEUTRAL:g} inter-ocular distances")
    neutral_frames = arrays["neutral_frames"].astype(np.int64)
    if ((neutral_frames < 0) | (neutral_frames >= frames)).any():
        raise _damaged(path, f"its resting frames {neutral_frames.min()}..{neutral_frames.max()} are not positions "
                       f"among its {frames} frames")
    occluders = None
    if "hands" in arrays:
        hands = arrays["hands"]
        with np.errstate(invalid="ignore"):
            wrong = per_frame(np.isinf(hands) | (np.abs(hands) > reach)).any(axis=1)  # NaN: no hand (small array)
        refuse(wrong, f"a hand's points are infinite or more than {MAX_REACH:g} plate sizes away")
        occluders = OccluderTrack(hands.astype(np.float32, copy=False), detector=header.get("occluder_tracker") or "")
    track = FaceTrack(landmarks=arrays["landmarks"].astype(np.float32, copy=False), found=found.astype(bool),
                      faces_seen=faces_seen.astype(np.int16))
    neutral_match = header.get("neutral_match")
    fit = ShotFit(
        neutral=neutral.astype(np.float64), scale=arrays["scale"].astype(np.float64),
        rotation=rotation.astype(np.float64), translation=arrays["translation"].astype(np.float64),
        coefficients=arrays["coefficients"].astype(np.float64), flags=flags.astype(np.uint8),
        neutral_frames=neutral_frames, smile_removed=float(header["smile_removed"]),
        neutral_match=float("nan") if neutral_match is None else float(neutral_match),
    )
    thumbnails = arrays.get("thumbnails")
    return Analysis(plate=plate, track=track, fit=fit, tracker=header["tracker"], occluders=occluders,
                    thumbnails=None if thumbnails is None else thumbnails.astype(np.uint8),
                    steady=header.get("landmarks") == STEADY_LANDMARKS, fine_shading=_fine_shading(header, path),
                    upper_teeth=_upper_teeth(header, plate, arrays, usable, path))


def _fine_shading(header: dict, path: Path) -> dict[str, float] | None:
    """The header's fine shading per map (absent or null in files written before it: None)."""
    value = header.get("fine_shading")
    if value is None:
        return None
    if not (isinstance(value, dict) and all(isinstance(k, str) and _is_number(v) and 0.0 < v <= MAX_FINE_SHADING
                                            for k, v in value.items())):
        raise _damaged(path, f"its header's fine_shading is {str(value)[:80]!r}, expected map names with numbers "
                       f"within 0..{MAX_FINE_SHADING:g}")
    return {k: float(v) for k, v in value.items()}


def _upper_teeth(header: dict, plate: PlateInfo, arrays: dict[str, np.ndarray], usable: np.ndarray, path: Path
                 ) -> UpperTeeth | None:
    """The header's and the arrays' upper teeth (absent in files written before them, and where no frame showed
    enough: None), checked: a crop inside the plate of a usable frame, finite values, an opacity in [0, 1]."""
    value = header.get("upper_teeth")
    pixels, alpha = arrays.get("teeth_pixels"), arrays.get("teeth_alpha")
    if value is None and pixels is None and alpha is None:
        return None
    if not (isinstance(value, dict) and pixels is not None and alpha is not None):
        raise _damaged(path, "its upper teeth are incomplete (the header's 'upper_teeth' and the arrays 'teeth_pixels' "
                       "and 'teeth_alpha' go together)")
    frame, x0, y0, found = (value.get(k) for k in ("frame", "x0", "y0", "exposure"))
    linear = value.get("linear", False)
    if not all(type(v) is int for v in (frame, x0, y0)) or not _is_number(found) or type(linear) is not bool:
        raise _damaged(path, f"its header's upper_teeth is {str(value)[:80]!r}, expected whole frame, x0 and y0, "
                       "a number exposure and a true/false linear")
    height, width = alpha.shape
    if pixels.shape[:2] != (height, width) or pixels.shape[2] not in (1, 3, 4) or height == 0 or width == 0:
        raise _damaged(path, f"its upper teeth's pixels {pixels.shape} and opacity {alpha.shape} do not match")
    if not (0 <= x0 and x0 + width <= plate.width and 0 <= y0 and y0 + height <= plate.height):
        raise _damaged(path, f"its upper teeth's crop ({width}x{height} at {x0}, {y0}) lies outside the "
                       f"{plate.width}x{plate.height} plate")
    index = {n: i for i, n in enumerate(plate.frame_numbers)}.get(frame)
    if index is None or not usable[index]:
        raise _damaged(path, f"its upper teeth come from frame {frame}, which is not a usable frame of it")
    with np.errstate(invalid="ignore"):
        if not (np.isfinite(pixels).all() and (np.abs(pixels) <= MAX_TEETH_VALUE).all() and np.isfinite(alpha).all()
                and (alpha >= 0).all() and (alpha <= 1).all()):
            raise _damaged(path, f"its upper teeth's pixels are not finite or beyond +-{MAX_TEETH_VALUE:g}, or their "
                           "opacity is not within 0..1")
    light = arrays.get("teeth_light")
    if light is not None:
        with np.errstate(invalid="ignore"):
            if not (np.isnan(light) | ((light >= 0) & (light <= 1))).all():
                raise _damaged(path, "its upper teeth's light readings are not within 0..1 (linear light) or NaN")
        light = light.astype(np.float32)
    return UpperTeeth(frame=frame, x0=x0, y0=y0, pixels=pixels.astype(np.float32), alpha=alpha.astype(np.float32),
                      exposure=float(found), light=light, linear=linear)
