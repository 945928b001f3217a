"""The plate's fingerprint: a tiny grayscale thumbnail of every analysed frame.

An analysis belongs to the pixels it was tracked on. Another shot of the same size and frame
numbers, or the right shot with its frames numbered one off, passes every check on sizes and
ranges, and the warp then lands on a cheek. So ``analyze`` keeps, per frame, a thumbnail of
the plate (:func:`thumbnail`: at most ``CELLS`` x ``CELLS`` cells, one byte each), and the
render compares the pixels it reads with the thumbnail of their frame (:class:`Fingerprint`).

The comparison looks at structure, not colour, so that a re-graded plate still matches. In the
log domain of the cells' values, what a grade does is fitted and removed: a cubic tone curve of
the candidate's values (gain, gamma, lift, contrast) and a smooth gain across the frame (a
quadratic of the position: a vignette, or colour premultiplied by an alpha ramp). What no such
change explains is the distance: the fraction of the reference thumbnail's log variance left
over, 0 for the same picture, near 1 for an unrelated one. Above ``LIMIT`` the frame is another
picture; a frame offset shows as another analysed frame within ``WINDOW`` that fits clearly
better than the frame's own (``CLOSER``, ``MARGIN``).

Measured on real footage (franck's talking frames, 360x288 at 24 fps, and the webcam actor's two
clips, 400x300): the same frames re-graded (gain 0.7-1.3, gamma 0.8-1.3, lift 0.05) leave at most
0.001, re-encoded as mp4 0.0012, both 0.002, premultiplied by an alpha ramp 0.25..1 0.005, an 8-bit
analysis of a float plate graded ``x^2.2 * 6 - 0.25`` (its darks clipped) 0.046; the neighbouring
frame 0.0002-0.009, frames 10 apart up to 0.07; another take of the same actor and set-up, or the
other clip, 0.23 and more over the whole frame (0.18 and more on an 8 x 8-cell crop). Untouched
frames one or more frames off are named in every frame (up to ``WINDOW`` frames off; further in a
moving shot the distance passes ``LIMIT``) unless the two frames hold the same picture; a re-graded
or re-encoded plate one frame off is named in about one frame of three, the rest being still
moments where the two frames' analyses agree as well. No re-graded or re-encoded true frame was
refused over the whole frame; on 8 x 8-cell crops, 1 in 100.

The thumbnail is made of point samples (``SAMPLES`` x ``SAMPLES`` per cell, averaged), so it
costs a few thousand pixel reads whatever the plate's size (0.3-0.5 ms a check at 360x288 and at
4K on a 2-core CPU), and a cell can be recomputed from any crop of the plate that holds its
samples (the OpenFX node reads only the face's neighbourhood, widened to ``MIN_SIDE`` cells each
way). Its channel is green (the first for a one-channel image), as a fraction of the integer
range, or for float (scene-linear) plates ``sqrt(x / (1 + x))`` of ``x`` clipped to ``[0, inf]``
(NaN counts as 0). A checked cell with a NaN or inf sample, or with alpha 0 (where a straight-alpha
image may hold any colour), is left out.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .errors import AnalysisMismatchError

#: How to turn the check off, for a plate known to be the analysed one.
OVERRIDE = ("`emotionedit render --ignore-plate-mismatch` (in a host: set EMOTIONEDIT_IGNORE_PLATE_MISMATCH=1 in "
            "its environment)")
#: Cells along the plate's longer side (the other side keeps the aspect ratio).
CELLS = 24
#: Point samples per cell along each axis.
SAMPLES = 4
#: The recipe above; stored in analysis files and bumped whenever the thumbnail changes.
METHOD = 1
#: Frames either side of a frame searched for a better match (a frame offset up to this size is named).
WINDOW = 96
#: Largest distance of the pixels from their own frame's thumbnail (see the module's measurements).
LIMIT = 0.08
#: Another frame fitting better than this fraction of the own frame's distance is the frame being read
#: (re-graded true frames leave their best neighbour at 0.86 of their own distance or more).
CLOSER = 0.5
#: Unless another frame holds the very pixels, it must also fit better by this much: in a still moment graded or
#: re-encoded frames fit a neighbour about as well as their own (and the two frames' analyses agree).
MARGIN = 5e-4
#: Own distances below this are the same picture (float rounding): no other frame can be closer.
FLOOR = 1e-5
#: Fewer cells than this in a crop, or a frame flatter than FLAT levels (a black frame): not judged.
MIN_CELLS = 24
FLAT = 1.0
#: A crop checked on its own (the OpenFX node's) holds at least this many cells each way (:func:`cells_region`).
MIN_SIDE = 8


def grid(height: int, width: int) -> tuple[int, int]:
    """(rows, columns) of the thumbnail of a ``height`` x ``width`` plate."""
    longer = max(height, width)
    return max(1, round(CELLS * height / longer)), max(1, round(CELLS * width / longer))


@functools.lru_cache(maxsize=16)
def _positions(count: int, size: int) -> np.ndarray:
    """``count`` x ``SAMPLES`` sample positions spread evenly over ``size`` pixels, (count, SAMPLES) int."""
    steps = count * SAMPLES
    positions = np.minimum((np.arange(steps) + 0.5) * size / steps, size - 1).astype(np.intp)
    positions.flags.writeable = False
    return positions.reshape(count, SAMPLES)


def _encode(samples: np.ndarray) -> np.ndarray:
    """Pixel values (any shape) -> float32 in [0, 1] (see the module's docstring)."""
    if samples.dtype.kind in "ui":
        return samples.astype(np.float32) * np.float32(1.0 / np.iinfo(samples.dtype).max)
    if samples.dtype.kind == "b":
        return samples.astype(np.float32)
    x = samples.astype(np.float32)  # a private copy: edited in place
    x[~(x > 0)] = 0.0  # NaN and negatives
    finite = x < np.inf
    x[finite] = np.sqrt(x[finite] / (1.0 + x[finite]))
    x[~finite] = 1.0
    return x


def sample_lines(plate_shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The rows and the columns of a whole plate on whose crossings its thumbnail's samples lie, in order
    (a value may repeat on a small plate): ``pixels[rows][:, columns]`` is all that a check of the whole plate
    reads (:func:`thumbnail_cells` with ``sampled=True``), a few thousand pixels to fetch from a GPU."""
    grid_rows, grid_columns = grid(*plate_shape)
    return _positions(grid_rows, plate_shape[0]).ravel(), _positions(grid_columns, plate_shape[1]).ravel()


@functools.lru_cache(maxsize=64)
def _sampling(plate_shape: tuple[int, int], crop_shape: tuple[int, ...], origin: tuple[int, int],
              sampled: bool = False):
    """Where a crop's thumbnail samples are: (cells, rows, columns, pixels), see :func:`thumbnail_cells`.

    rows (r, 1, S, 1) and columns (1, c, 1, S) index the crop, ordered by cell then sample; pixels is
    the same samples' index into the raveled crop (C order) without the channel: pixel * C + channel.
    sampled: the crop is the whole plate's samples only (:func:`sample_lines`).
    """
    height, width = plate_shape
    grid_rows, grid_columns = grid(height, width)
    top, left = origin
    ys, xs = _positions(grid_rows, height), _positions(grid_columns, width)
    if sampled:
        ys, xs = np.arange(ys.size).reshape(ys.shape), np.arange(xs.size).reshape(xs.shape)
    inside_rows = np.flatnonzero(((ys >= top) & (ys < top + crop_shape[0])).all(axis=1))
    inside_columns = np.flatnonzero(((xs >= left) & (xs < left + crop_shape[1])).all(axis=1))
    cells = (inside_rows[:, None] * grid_columns + inside_columns[None, :]).ravel()
    rows = (ys[inside_rows] - top)[:, None, :, None]
    columns = (xs[inside_columns] - left)[None, :, None, :]
    pixels = (rows * crop_shape[1] + columns).ravel()
    for array in (cells, rows, columns, pixels):
        array.flags.writeable = False
    return cells, rows, columns, pixels


def _samples(pixels: np.ndarray, sampling: tuple, channel: int) -> np.ndarray:
    """The samples of one channel, (cells x SAMPLES^2,) in the crop's dtype."""
    _, rows, columns, flat = sampling
    if pixels.ndim == 2:
        return pixels.reshape(-1)[flat] if pixels.flags.c_contiguous else pixels[rows, columns].ravel()
    if pixels.flags.c_contiguous:
        return pixels.reshape(-1)[flat * pixels.shape[2] + channel]
    return pixels[rows, columns, channel].ravel()


def thumbnail_cells(pixels: np.ndarray, plate_shape: tuple[int, int], origin: tuple[int, int] = (0, 0),
                    usable_only: bool = False, sampled: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The thumbnail's cells that a crop of the plate holds.

    pixels: (h, w, C) or (h, w), any dtype: the plate's pixels whose top-left is at ``origin``
    (row, column) of a plate of ``plate_shape`` (height, width).
    usable_only: leave out cells with a sample that says nothing about the picture: NaN or inf (a
    float plate's defects), or alpha 0 (or NaN) in an RGBA crop, where a straight-alpha host may hold
    any colour.
    sampled: ``pixels`` are the whole plate's samples, ``plate[rows][:, columns]`` of :func:`sample_lines`
    (origin (0, 0)); the cells and values are those of the whole plate.
    Returns (cells, values): the flat indices into the (rows, columns) grid (:func:`grid`) of every
    cell whose samples all lie in the crop, and their values (uint8, 0-255), in the same order.
    """
    if sampled and tuple(origin) != (0, 0):
        raise ValueError("sampled pixels are the whole plate's: origin must be (0, 0)")
    sampling = _sampling(tuple(plate_shape), pixels.shape, tuple(origin), sampled)
    cells = sampling[0]
    if cells.size == 0:
        return cells, np.zeros(0, np.uint8)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    samples_raw = _samples(pixels, sampling, 1 if channels > 1 else 0)
    samples = _encode(samples_raw).reshape(cells.size, SAMPLES * SAMPLES)
    values = np.round(samples @ np.full(SAMPLES * SAMPLES, 255.0 / (SAMPLES * SAMPLES), np.float32)).astype(np.uint8)
    if usable_only:
        keep = np.ones(cells.size, bool)
        if samples_raw.dtype.kind == "f":
            keep &= np.isfinite(samples_raw).reshape(cells.size, -1).all(axis=1)
        if channels == 4:
            keep &= (_samples(pixels, sampling, 3).reshape(cells.size, -1) > 0).all(axis=1)
        cells, values = cells[keep], values[keep]
    return cells, values


def cells_region(plate_shape: tuple[int, int], around: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The plate rectangle (y0, x0, y1, x1) to read to check a frame near ``around`` (y0, x0, y1, x1).

    It holds ``around`` and the samples of whole cells around it, at least ``MIN_SIDE`` each way
    (fewer only where the plate has fewer), so a crop of it can be judged; it stays inside the plate.
    """
    height, width = plate_shape
    rows, columns = grid(height, width)
    box = []
    for count, size, low, high in ((rows, height, around[0], around[2]), (columns, width, around[1], around[3])):
        positions = _positions(count, size)
        first = int(np.searchsorted(positions[:, -1], max(0, low)))
        last = max(first, int(np.searchsorted(positions[:, 0], min(size, high))) - 1)
        first, last = min(first, count - 1), min(last, count - 1)
        missing = max(0, MIN_SIDE - (last - first + 1))
        first = max(0, first - (missing + 1) // 2)
        last = min(count - 1, max(last + missing // 2, first + MIN_SIDE - 1))
        first = max(0, min(first, last - MIN_SIDE + 1))
        box.append((min(int(positions[first, 0]), max(0, low)), max(int(positions[last, -1]) + 1, min(size, high))))
    (y0, y1), (x0, x1) = box
    return y0, x0, y1, x1


def thumbnail(image: np.ndarray) -> np.ndarray:
    """The fingerprint of one frame: (rows, columns) uint8 (:func:`grid`), from an (H, W, C) or (H, W) plate."""
    rows, columns = grid(image.shape[0], image.shape[1])
    _, values = thumbnail_cells(image, image.shape[:2])
    return values.reshape(rows, columns)


@dataclass(frozen=True)
class Match:
    """How the pixels read for frame ``frame`` compare with the analysis's thumbnails.

    distance: the pixels against their own frame's thumbnail (0: the same picture; see the module).
    closest: another analysed frame they fit clearly better, or None; closest_distance: its distance.
    cells: cells compared (0: not judged: too few in the crop, or a flat frame).
    """

    frame: int
    distance: float
    closest: int | None
    closest_distance: float
    cells: int

    @property
    def judged(self) -> bool:
        return self.cells > 0

    @property
    def ok(self) -> bool:
        return not self.judged or (self.closest is None and self.distance <= LIMIT)


#: Cell values (0-255) in the log domain, where a gain (global, or smooth across the frame) becomes additive.
_LOG = np.log((np.arange(256) + 4.0) / 259.0).astype(np.float32)


@functools.lru_cache(maxsize=32)
def _spatial(cells_key: bytes, grid_shape: tuple[int, int]) -> np.ndarray:
    """An orthonormal basis (k, <= 5) float64 of a smooth gain across the frame on these cells: the centred
    quadratic of their positions (cells_key: the cells' flat indices, int64 bytes)."""
    cells = np.frombuffer(cells_key, np.int64)
    rows, columns = np.divmod(cells, grid_shape[1])
    u = (columns + 0.5) / grid_shape[1] - 0.5
    v = (rows + 0.5) / grid_shape[0] - 0.5
    return _orthonormal(np.stack([u, v, u * u, v * v, u * v], axis=1))


def _orthonormal(matrix: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the centred columns of ``matrix`` (k, m), through the m x m Gram matrix's
    eigenvectors (a QR of the k x m matrix costs 4 times more); directions the rows cannot tell apart (a crop
    one cell high has no v * v) are dropped."""
    matrix = matrix - matrix.mean(axis=0)
    weights, vectors = np.linalg.eigh(matrix.T @ matrix)
    keep = weights > 1e-9 * max(weights[-1], 1e-300)
    return matrix @ (vectors[:, keep] / np.sqrt(weights[keep]))


def _basis(candidate: np.ndarray, cells: np.ndarray, grid_shape: tuple[int, int]) -> np.ndarray:
    """An orthonormal basis (k, <= 8) float32 of what a re-grade may change in the log thumbnail, all columns
    centred: a smooth gain across the frame (:func:`_spatial`) and a cubic tone curve of the candidate's log
    values (k,)."""
    spatial = _spatial(cells.astype(np.int64).tobytes(), grid_shape)
    x = _LOG[candidate].astype(np.float64)
    x -= x.mean()
    tone = np.stack([x, x * x, x * x * x], axis=1)
    tone -= spatial @ (spatial.T @ tone)
    return np.concatenate([spatial, _orthonormal(tone)], axis=1).astype(np.float32)


def _distances(candidate: np.ndarray, references: np.ndarray, variance: np.ndarray, cells: np.ndarray,
               grid_shape: tuple[int, int]) -> np.ndarray:
    """What no re-grade of ``candidate`` (k,) explains of each reference row: the fraction of the row's log
    variance left after :func:`_basis`, (n,) in [0, 1] (NaN where ``variance`` is NaN).

    references: (n, k) float32, the rows' log values (``_LOG``) of the same ``cells``; variance: (n,) each
    row's sum of squared deviations from its mean.
    """
    explained = references @ _basis(candidate, cells, grid_shape)  # centred columns: the rows' means drop out
    with np.errstate(invalid="ignore", divide="ignore"):
        left = 1.0 - np.einsum("ij,ij->i", explained, explained) / variance
    return np.clip(left, 0.0, 1.0)


def _variance(rows: np.ndarray) -> np.ndarray:
    """(n,) float64 sum of squared deviations from each row's mean, of (n, k) float32 rows."""
    sums = rows.sum(axis=1, dtype=np.float64)
    return np.einsum("ij,ij->i", rows, rows).astype(np.float64) - sums * sums / rows.shape[1]


class Fingerprint:
    """The thumbnails of an analysed shot, to check pixels against.

    thumbnails: (T, rows, columns) uint8, one per analysed frame (:func:`thumbnail`), in the
    order of ``frame_numbers``. Their log values are made by blocks of ``_BLOCK`` frames as checks reach
    them and a few blocks are kept (a render reads its frames in order), so a check costs the same at
    any length of shot and the memory stays at a few MB.
    """

    _BLOCK = 256
    _KEPT = 4

    def __init__(self, thumbnails: np.ndarray, frame_numbers: list[int]):
        self.thumbnails = np.ascontiguousarray(thumbnails.reshape(len(thumbnails), -1))
        self.frame_numbers = list(frame_numbers)
        self.shape = thumbnails.shape[1:]
        #: Frames without structure to compare (black, or flatter than FLAT levels): never judged against.
        self._flat = self.thumbnails.std(axis=1) < FLAT
        self._blocks: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _log_rows(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Frames [first, last): their log thumbnails (n, cells) float32 and variances (n,), NaN where flat."""
        parts = []
        for block in range(first // self._BLOCK, (last - 1) // self._BLOCK + 1):
            cached = self._blocks.get(block)
            if cached is None:
                rows = slice(block * self._BLOCK, (block + 1) * self._BLOCK)
                values = np.take(_LOG, self.thumbnails[rows])
                variance = np.where(self._flat[rows], np.nan, _variance(values))
                cached = self._blocks[block] = (values, variance)
                while len(self._blocks) > self._KEPT:
                    self._blocks.pop(next(iter(self._blocks)))
            rows = slice(max(first - block * self._BLOCK, 0), last - block * self._BLOCK)
            parts.append((cached[0][rows], cached[1][rows]))
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def match(self, pixels: np.ndarray, index: int, plate_shape: tuple[int, int],
              origin: tuple[int, int] = (0, 0), sampled: bool = False) -> Match:
        """Compare ``pixels`` (the plate's, or a crop of it at ``origin``, or its samples: see
        :func:`thumbnail_cells`) with analysed frame ``index`` and its neighbours (``WINDOW`` frames either side)."""
        frame = self.frame_numbers[index]
        cells, values = thumbnail_cells(pixels, plate_shape, origin, usable_only=True, sampled=sampled)
        if cells.size < MIN_CELLS or int(values.max()) - int(values.min()) <= FLAT:  # nothing to compare
            return Match(frame, 0.0, None, 0.0, 0)
        first, last = max(0, index - WINDOW), min(len(self.frame_numbers), index + WINDOW + 1)
        window, variance = self._log_rows(first, last)
        if cells.size != window.shape[1]:  # a crop, or cells left out: only those cells
            window = window[:, cells]
            flat = self.thumbnails[first:last, cells].std(axis=1) < FLAT
            variance = np.where(flat, np.nan, _variance(window))
        distances = _distances(values, window, variance, cells, grid(*plate_shape))
        own = distances[index - first]
        if not np.isfinite(own):
            return Match(frame, 0.0, None, 0.0, 0)
        distances[index - first] = np.nan
        others = np.where(np.isfinite(distances), distances, np.inf)
        best = int(np.argmin(others))
        closest, closest_distance = None, float(others[best])
        exact = closest_distance <= FLOOR  # the very pixels of another frame
        if own > FLOOR and closest_distance < CLOSER * own and (exact or own - closest_distance > MARGIN):
            closest = self.frame_numbers[first + best]
        return Match(frame, float(own), closest, closest_distance, int(cells.size))

    def check(self, pixels: np.ndarray, index: int, plate_shape: tuple[int, int], origin: tuple[int, int] = (0, 0),
              plate_path: str = "", sampled: bool = False) -> Match:
        """:meth:`match`, raising :class:`PlateMismatchError` when the pixels are not frame ``index``'s."""
        found = self.match(pixels, index, plate_shape, origin, sampled)
        if not found.ok:
            raise PlateMismatchError(found, plate_path)
        return found


class PlateMismatchError(AnalysisMismatchError):
    """The pixels read for a frame are not that frame of the analysed plate.

    match: the comparison; offset: how many frames later in the analysis the pixels are (None: not
    found nearby, another shot).
    """

    def __init__(self, match: Match, plate_path: str = ""):
        self.match = match
        self.offset = None if match.closest is None else match.closest - match.frame
        analysed = f" (analysed from {plate_path})" if plate_path else ""
        frame = match.frame
        if self.offset is not None:
            way, too = ("below", "low") if self.offset > 0 else ("above", "high")
            text = (
                f"frame {frame} of the plate is not frame {frame} of the analysis{analysed}: its pixels are analysed "
                f"frame {match.closest} (structure difference {match.closest_distance:.4f}, against "
                f"{match.distance:.4f} from frame {frame}), so this plate's frame numbers run {abs(self.offset)} "
                f"{way} the analysed plate's (a renumbered sequence; in a host, a Frame Offset {abs(self.offset)} too "
                f"{too}). Render the plate with the analysed frame numbers, or analyse this plate with "
                "`emotionedit analyze`")
        else:
            text = (
                f"frame {frame} of the plate is not the frame the analysis{analysed} was made from: its picture "
                f"differs in structure from the analysed frame {frame}'s fingerprint ({match.distance:.3f} of it "
                f"unexplained by any tone curve, where a re-graded or re-encoded copy of the analysed plate stays "
                f"under {LIMIT:g}), and no analysed frame within {WINDOW} of it fits; the analysis belongs to "
                "another shot. Use this plate's analysis, or make one with `emotionedit analyze`")
        super().__init__(f"{text}. If this is the analysed plate, retouched or graded beyond a global tone change, "
                         f"skip the check with {OVERRIDE}")
