"""The shot fit in chunks: the same fit as in one piece, in memory that does not grow with the shot (issue 11)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from emotionedit.fit import shot
from emotionedit.fit import topology as topo
from emotionedit.fit.pose import normalise_shape, similarity_fit


@pytest.fixture(scope="module")
def tracked(talking, smiling):
    """96 real tracked frames of franck (talking, then smiling), every eleventh lost."""
    landmarks = np.concatenate([talking[1].track.landmarks, smiling[1].track.landmarks])
    found = np.concatenate([talking[1].track.found, smiling[1].track.found])
    lost = np.arange(len(found)) % 11 == 5
    landmarks[lost], found[lost] = np.nan, False
    return landmarks, found


def _whole_shot_reference(landmarks: np.ndarray, found: np.ndarray, iterations: int = 3) -> np.ndarray:
    """The shot's mean face as the fit made it before it worked in chunks (generalised Procrustes on the rigid
    points, every frame's arrays at once): the oracle the chunked reference must equal bit for bit."""
    good = landmarks[found]
    reference = normalise_shape(np.median(np.stack([normalise_shape(f) for f in good[:: max(1, len(good) // 50)]]),
                                          axis=0))
    rigid = list(topo.RIGID)
    for _ in range(iterations):
        scale, rotation, translation = similarity_fit(
            good[:, rigid], np.broadcast_to(reference[rigid], good[:, rigid].shape)
        )
        aligned = scale[:, None, None] * np.einsum("tij,tnj->tni", rotation, good) + translation[:, None, :]
        reference = normalise_shape(np.median(aligned, axis=0))
    return reference.astype(np.float64)


def test_the_reference_face_is_the_whole_shot_procrustes_bit_for_bit(tracked, monkeypatch):
    landmarks, found = tracked
    want = _whole_shot_reference(landmarks, found)
    monkeypatch.setattr(shot, "CHUNK_FRAMES", 6)  # many chunks, and median blocks of a few points
    got = shot.shot_reference(landmarks, found)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("neutral", ["estimated", "given"])
def test_small_chunks_fit_what_one_piece_fits(tracked, monkeypatch, neutral):
    landmarks, found = tracked
    assert found.sum() % 43 == 1  # with chunks of 43, the last chunk of found frames holds one frame
    frames = np.flatnonzero(found)[[3, 40, 41, 41]] if neutral == "given" else None
    monkeypatch.setattr(shot, "CHUNK_FRAMES", 10**6)
    whole = shot.fit_shot(landmarks, found, frames)
    monkeypatch.setattr(shot, "CHUNK_FRAMES", 43)
    chunked = shot.fit_shot(landmarks, found, frames)
    for name in ("neutral", "scale", "rotation", "translation", "flags", "neutral_frames"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name), err_msg=name)
    assert chunked.smile_removed == whole.smile_removed
    # The coefficients' least squares run through BLAS, whose sums may differ in the last bit with the
    # number of rows (4e-16 measured); the file stores them as float32.
    np.testing.assert_allclose(chunked.coefficients, whole.coefficients, rtol=0, atol=1e-12)
    assert np.isnan(chunked.coefficients[~found]).all()


def _fit_peak(landmarks: np.ndarray, found: np.ndarray) -> int:
    """Peak bytes allocated while fitting (the result included)."""
    tracemalloc.start()
    try:
        shot.fit_shot(landmarks, found)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_fit_memory_does_not_grow_with_the_shot(tracked, monkeypatch):
    # The fit's result takes about 260 bytes a frame (pose and coefficients in float64); its whole-shot
    # temporaries were 23 KB a frame (the reference's aligned faces, the canonical faces, their copies).
    # Chunks of 64 frames, so that both shots fill several and only what is kept per frame differs.
    monkeypatch.setattr(shot, "CHUNK_FRAMES", 64)
    landmarks, found = tracked
    short = (np.tile(landmarks, (4, 1, 1)), np.tile(found, 4))
    long = (np.tile(landmarks, (16, 1, 1)), np.tile(found, 16))
    per_frame = (_fit_peak(*long) - _fit_peak(*short)) / (len(long[1]) - len(short[1]))
    assert per_frame < 1024, f"the fit holds {per_frame:.0f} bytes a frame"
