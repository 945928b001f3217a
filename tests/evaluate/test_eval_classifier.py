"""The FER2013 mini-Xception port: weights, TF padding, and behaviour on real faces."""

from __future__ import annotations

import cv2
import h5py
import numpy as np
import pytest
import torch

from emotionedit.evaluate import EMOTION_LABELS
from emotionedit.evaluate import classifier as C
from emotionedit.evaluate import landmarks68 as L


def test_tf_same_padding_is_lopsided():
    # 3x3 stride-2 pool over 60 -> 30 needs one pixel, which TF puts after (right/bottom).
    assert C._tf_same_pad(60, 3, 2) == (0, 1)
    assert C._tf_same_pad(15, 3, 2) == (1, 1)
    assert C._tf_same_pad(64, 1, 2) == (0, 0)
    assert C._tf_same_pad(8, 3, 1) == (1, 1)


def test_every_weight_in_the_file_is_loaded():
    model = C.load_classifier()
    stored = []

    def count(name, obj):
        if isinstance(obj, h5py.Dataset):
            stored.append(obj.size)

    with h5py.File(C.model_path(), "r") as handle:
        handle["model_weights"].visititems(count)
    ours = sum(p.numel() for p in model.parameters()) + sum(
        b.numel() for name, b in model.named_buffers() if "num_batches" not in name)
    assert ours == sum(stored)
    out = model(torch.zeros(2, 1, 64, 64))
    assert out.shape == (2, len(EMOTION_LABELS))


def _happy(frames: list[np.ndarray]) -> np.ndarray:
    crops = []
    for rgb in frames:
        box = L.detect_face(rgb)
        assert box is not None
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        crops.append(C.face_crop(gray, (box.left, box.top, box.right, box.bottom)))
    probs = C.classify_crops(crops)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    return probs[:, EMOTION_LABELS.index("happy")]


def test_smiling_franck_is_happy_talking_franck_is_not(talking_frames, smiling_frames):
    talking, smiling = _happy(talking_frames), _happy(smiling_frames)
    # Measured: talking mean ~0.003, smiling mean ~0.9.
    assert talking.mean() < 0.1
    assert smiling.mean() > 0.6
    assert np.median(smiling) - np.median(talking) > 0.5


def test_classify_crops_checks_its_input():
    assert C.classify_crops([np.full((80, 80), 128, np.uint8)]).shape == (1, 7)
    assert C.classify_crops([]).shape == (0, 7)
    with pytest.raises(ValueError, match="uint8"):
        C.classify_crops([np.zeros((64, 64), np.float32)])
