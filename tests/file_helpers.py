"""Helpers the tests share (not tests): real frames of a clip, EXR files made and read the way a
compositor's tools make and read them, and an OpenImageIO that damages what it writes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import OpenImageIO as oiio


def read_clip(path, start: int, count: int) -> list[np.ndarray]:
    """``count`` frames of a movie from frame ``start``, (H, W, 3) uint8 RGB each."""
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, start)
    frames = []
    for _ in range(count):
        ok, frame = capture.read()
        assert ok, f"could not read frame {start + len(frames)} of {path}"
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


def read_frames(path, numbers) -> list[np.ndarray]:
    """Frames ``numbers`` (ascending, gaps allowed) of a movie, (H, W, 3) uint8 RGB each."""
    capture = cv2.VideoCapture(str(path))
    frames, previous = [], None
    for n in numbers:
        if previous is None or n != previous + 1:
            capture.set(cv2.CAP_PROP_POS_FRAMES, n)
        ok, bgr = capture.read()
        assert ok, f"could not read frame {n} of {path}"
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        previous = n
    capture.release()
    return frames


def opaque_plate(frame: np.ndarray, dtype, components: int = 4) -> np.ndarray:
    """An 8-bit RGB frame as an opaque plate of ``dtype``: RGB, or RGBA with alpha 1; 16-bit as 257 times the 8-bit
    values, floats as the 8-bit values over 255."""
    dtype = np.dtype(dtype)
    rgba = np.concatenate([frame, np.full(frame.shape[:2] + (1,), 255, np.uint8)], axis=2)[..., :components]
    if dtype.kind == "u":
        return rgba.astype(dtype) * (257 if dtype == np.uint16 else 1)
    return (rgba.astype(np.float32) / 255).astype(dtype)


def write_exr(path, planes, origin=(0, 0), display=None):
    """An EXR of ``planes`` (``[(name, type, (H, W) array), ...]``) with its data window at ``origin``."""
    height, width = planes[0][2].shape
    spec = oiio.ImageSpec(width, height, len(planes), "float")
    spec.channelnames = [name for name, _, _ in planes]
    spec.channelformats = tuple(oiio.TypeDesc(kind) for _, kind, _ in planes)
    spec.x, spec.y = origin
    if display is not None:
        spec.full_x, spec.full_y, spec.full_width, spec.full_height = display
    spec.attribute("compression", "zip")
    buffer = np.dstack([
        (plane.astype(np.float64) / 4294967295.0).astype(np.float32) if kind == "uint" else plane.astype(np.float32)
        for _, kind, plane in planes
    ])
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec) and out.write_image(buffer), out.geterror()
    assert out.close()


def read_exr(path):
    """``(header, {name: (type, array as stored)})`` of an EXR, each channel read in its own type."""
    image = oiio.ImageInput.open(str(path))
    header = image.spec()
    formats = list(header.channelformats) or [header.format] * header.nchannels
    channels = {}
    for index, (name, kind) in enumerate(zip(header.channelnames, formats, strict=True)):
        plane = image.read_image(0, 0, index, index + 1, kind)
        channels[name] = (str(kind), np.asarray(plane).reshape(header.height, header.width))
    image.close()
    return header, channels


def windows(header):
    """The data window and the display window of an EXR's header, (x, y, width, height) each."""
    return (header.x, header.y, header.width, header.height), (
        header.full_x, header.full_y, header.full_width, header.full_height)


def read_layout(path):
    """``(data window, display window, {name: (type, array as stored)})`` of an EXR."""
    header, channels = read_exr(path)
    return (*windows(header), channels)


def damage(path: Path, how: str) -> None:
    """Cut a file in half, empty it, or drop its last two bytes (``how``: half, empty, tail)."""
    data = path.read_bytes()
    path.write_bytes({"half": data[: len(data) // 2], "empty": b"", "tail": data[:-2]}[how])


class DamagingOiio:
    """OpenImageIO, except that every file an ImageOutput writes whose name holds ``victim`` is
    damaged by ``how`` (:func:`damage`) after the encoder reported success (what a full disk does to
    libpng); ``damaged`` lists those files."""

    def __init__(self, victim: str, how: str):
        self.victim, self.how = victim, how
        self.damaged: list[str] = []
        outer = self

        class ImageOutput:
            @staticmethod
            def create(name):
                real = oiio.ImageOutput.create(name)
                return None if real is None else _DamagedOutput(real, outer)

        self.ImageOutput = ImageOutput

    def __getattr__(self, name):
        return getattr(oiio, name)


class _DamagedOutput:
    def __init__(self, real, shim: DamagingOiio):
        self.real, self.shim, self.name = real, shim, None

    def open(self, name, spec):
        self.name = name
        return self.real.open(name, spec)

    def write_image(self, data):
        return self.real.write_image(data)

    def geterror(self):
        return self.real.geterror()

    def close(self):
        ok = self.real.close()
        if self.shim.victim in Path(self.name).name:
            damage(Path(self.name), self.shim.how)
            self.shim.damaged.append(self.name)
        return ok


class Cv2WithEncoder:
    """OpenCV whose movie writer hands each frame to ``write(count, frame, real_write)`` instead of encoding
    it: the test decides what the encoder does with the ``count``-th frame (drop it, fail, take its time)."""

    def __init__(self, write):
        class Writer:
            def __init__(self, *args):
                self.real, self.count = cv2.VideoWriter(*args), 0

            def isOpened(self):  # noqa: N802 - OpenCV's name
                return self.real.isOpened()

            def write(self, frame):
                self.count += 1
                write(self.count, frame, self.real.write)

            def release(self):
                self.real.release()

        self.VideoWriter = Writer

    def __getattr__(self, name):
        return getattr(cv2, name)
