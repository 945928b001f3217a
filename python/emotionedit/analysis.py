"""The per-shot analysis file: tracked once by ``analyze``, rendered many times by ``render``.

A NumPy ``.npz`` archive (no pickles) holding a JSON header and a few arrays:
landmarks (T x 478 x 3 float32), pose (scale, rotation, translation), AU
coefficients, quality flags, the actor's neutral face and the hands seen in each frame
(occluders, T x 2 x 21 x 2 float32). About 6 KB per frame.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import AnalysisMismatchError, UserError
from .fit import AUS, BASIS_REVISION, ShotFit
from .track import FaceTrack
from .track.occluders import OccluderTrack

FORMAT = "emotionedit-analysis"
# 2: adds the hands in front of the face ("hands", "occluder_tracker"); version 1 files lack them.
VERSION = 2


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


def save(analysis: Analysis, path: Path, overwrite: bool = False) -> None:
    """Write atomically; refuse to replace an existing file unless ``overwrite``."""
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
    }
    arrays = {
        "header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
        "landmarks": analysis.track.landmarks.astype(np.float32),
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
        arrays["hands"] = analysis.occluders.hands.astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        np.savez(handle, **arrays)
    os.replace(partial, path)


def load(path: Path) -> Analysis:
    """Read an analysis file, with a clear error for anything that is not one of ours."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"analysis file {path} does not exist; create it with `emotionedit analyze`")
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            arrays = {key: data[key] for key in data.files if key != "header"}
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} is not an EmotionEdit analysis file (or it is damaged): {exc}") from None
    if header.get("format") != FORMAT:
        raise UserError(f"{path} is not an EmotionEdit analysis file")
    if header.get("version") == 1:
        raise AnalysisMismatchError(
            f"{path} is analysis format version 1, which does not record hands in front of the face (this "
            f"EmotionEdit reads version {VERSION} and keeps hands from being warped); re-run `emotionedit analyze`"
        )
    if header.get("version") != VERSION:
        raise AnalysisMismatchError(
            f"{path} is analysis format version {header.get('version')}, this EmotionEdit reads version {VERSION}; "
            "re-run `emotionedit analyze` with this version"
        )
    # Files written before the revision was recorded were fitted with revision 1.
    revision = header.get("basis_revision", 1)
    if header.get("aus") != list(AUS) or revision != BASIS_REVISION:
        raise AnalysisMismatchError(
            f"{path} was fitted with action-unit basis revision {revision}, this EmotionEdit edits with revision "
            f"{BASIS_REVISION}; re-run `emotionedit analyze` to fit it again (tracking is unchanged)"
        )
    plate = PlateInfo(**header["plate"])
    track = FaceTrack(landmarks=arrays["landmarks"], found=arrays["found"], faces_seen=arrays["faces_seen"])
    fit = ShotFit(
        neutral=arrays["neutral"], scale=arrays["scale"], rotation=arrays["rotation"],
        translation=arrays["translation"], coefficients=arrays["coefficients"].astype(np.float64),
        flags=arrays["flags"], neutral_frames=arrays["neutral_frames"], smile_removed=header["smile_removed"],
        neutral_match=float("nan") if header.get("neutral_match") is None else float(header["neutral_match"]),
    )
    occluders = None
    if "hands" in arrays:
        try:
            occluders = OccluderTrack(arrays["hands"], detector=header.get("occluder_tracker") or "")
        except ValueError as exc:
            raise UserError(f"{path} is damaged: {exc}") from None
    n = len(plate.frame_numbers)
    per_frame = (track.landmarks, track.found, fit.flags, fit.coefficients) + (
        () if occluders is None else (occluders.hands,))
    if not all(len(a) == n for a in per_frame):
        raise UserError(f"{path} is damaged: its arrays disagree on the number of frames")
    return Analysis(plate=plate, track=track, fit=fit, tracker=header["tracker"], occluders=occluders)
