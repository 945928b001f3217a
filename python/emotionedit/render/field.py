"""Stage 4a: a smooth dense displacement field from landmark motion.

The field is a thin-plate spline through the edited landmark positions, pinned to
zero displacement on two rings outside the face, evaluated on a coarse grid tied
to the face's size (so its cost does not grow with the plate's resolution) and
bilinearly upsampled. It is a *backward* map: for each output pixel, where to
sample the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

import cv2
import numpy as np

from ..fit import topology as topo

# Zero-displacement rings around the face: the face oval scaled about its centre.
PIN_RINGS = (1.3, 1.55)
# The matte (where pixels may change) ends inside the first ring.
MATTE_SCALE = 1.25
# Coarse grid cells per inter-ocular distance.
CELLS_PER_IOD = 16
# Thin-plate smoothing (IOD^2): small, it only tames nearly coincident points.
REGULARISATION = 1e-4


@dataclass(frozen=True)
class Region:
    """A pixel rectangle [x0, x1) x [y0, y1) of the plate."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    def intersection(self, other: Region) -> Region:
        """The pixels in both rectangles (empty when they do not overlap)."""
        return Region(max(self.x0, other.x0), max(self.y0, other.y0), min(self.x1, other.x1), min(self.y1, other.y1))

    def within(self, outer: Region) -> tuple[slice, slice]:
        """(rows, columns) of this rectangle in an array that holds ``outer``'s pixels."""
        return slice(self.y0 - outer.y0, self.y1 - outer.y0), slice(self.x0 - outer.x0, self.x1 - outer.x0)


def grid_scales(grid: np.ndarray, over: Region) -> tuple[float, float]:
    """A coarse (ny, nx, ...) grid's cells per pixel across and down ``over``, as the kernels take them (float32
    values: rule.h's grid_step computes with them in float32)."""
    ny, nx = grid.shape[:2]
    return float(np.float32(nx / over.width)), float(np.float32(ny / over.height))


_NO_BOXES = np.zeros((0, 5), np.int32)
_NO_VALUES = np.zeros(0, np.float32)


@dataclass(frozen=True, eq=False)
class Field:
    """A backward map in the compact form the kernels read and expand per pixel (cuda/rule.h's ``Field``).

    over: the region the grid lies over; grid: (ny, nx, 2) float32 displacements (x, y) at its cells' centres,
    interpolated bilinearly between them (cv2.resize's INTER_LINEAR layout, edges held); a grid the size of the
    region is the map itself, pixel for pixel. boxes, values: the layers behind the face (the mouth's interior,
    the eyeballs), see :meth:`with_layers`. The displacement at a pixel is the grid's, blended toward each layer's
    own map by its weight. A 4K face's map is a few thousand grid cells and the layers' boxes, not 14 MB of planes.
    """

    over: Region
    grid: np.ndarray
    boxes: np.ndarray = dataclass_field(default_factory=lambda: _NO_BOXES)
    values: np.ndarray = dataclass_field(default_factory=lambda: _NO_VALUES)

    @classmethod
    def of_offsets(cls, offset_x: np.ndarray, offset_y: np.ndarray, region: Region) -> Field:
        """A map given at every pixel of ``region`` ((h, w) displacements each)."""
        return cls(region, np.ascontiguousarray(np.stack([offset_x, offset_y], axis=-1), dtype=np.float32))

    def with_layers(self, layers: list[tuple[Region, np.ndarray, np.ndarray, np.ndarray]]) -> Field:
        """This map with layers over it, in order (a later one covers an earlier one): (box, weight, map_x, map_y),
        the three (box.height, box.width) float32, the map in absolute plate coordinates; over its box a layer
        makes the displacement ``d * (1 - weight) + weight * (map - pixel)``."""
        boxes, values, start = [], [], 0
        for box, weight, map_x, map_y in layers:
            boxes.append((box.x0, box.y0, box.x1, box.y1, start))
            values += [np.asarray(a, np.float32).reshape(-1) for a in (weight, map_x, map_y)]
            start += 3 * box.width * box.height
        if not boxes:
            return self
        return Field(self.over, self.grid, np.array(boxes, np.int32).reshape(-1, 5), np.concatenate(values))

    def arguments(self) -> tuple:
        """The compiled kernels' ``field`` argument."""
        return (self.grid, *grid_scales(self.grid, self.over), self.over.x0, self.over.y0, self.boxes, self.values)

    def offsets(self, region: Region) -> tuple[np.ndarray, np.ndarray]:
        """The displacements at every pixel of ``region``, (h, w) float32 dx and dy, as the kernels compute them."""
        from . import _resample

        return _resample.expand_field(self.arguments(), region.x0, region.y0, region.height, region.width,
                                      max(1, cv2.getNumThreads()))

    def reach(self) -> tuple[float, float, float, float]:
        """Bounds (low x, low y, high x, high y) of the displacement anywhere, 0 included (the matte scales it
        toward 0): the grid's and the weighted layers' extremes (their interpolations and blends stay inside).
        NaN if the map holds NaN."""
        grid = self.grid.reshape(-1, 2)
        lows, highs = [grid.min(axis=0), np.zeros(2, np.float32)], [grid.max(axis=0), np.zeros(2, np.float32)]
        for x0, y0, x1, y1, start in self.boxes:
            size = (x1 - x0) * (y1 - y0)
            weight, map_x, map_y = (self.values[start + k * size : start + (k + 1) * size].reshape(y1 - y0, x1 - x0)
                                    for k in range(3))
            unused = weight == 0  # counted as 0, which is in the bounds anyway
            dx = np.subtract(map_x, np.arange(x0, x1, dtype=np.float32)[None, :])
            dy = np.subtract(map_y, np.arange(y0, y1, dtype=np.float32)[:, None])
            dx[unused] = 0.0
            dy[unused] = 0.0
            lows.append(np.array([dx.min(), dy.min()]))
            highs.append(np.array([dx.max(), dy.max()]))
        low, high = np.min(lows, axis=0), np.max(highs, axis=0)  # numpy's min and max carry NaN
        if np.isnan(low).any() or np.isnan(high).any():
            return (float("nan"),) * 4
        return float(low[0]), float(low[1]), float(high[0]), float(high[1])


def face_oval(points: np.ndarray, scale: float) -> np.ndarray:
    """The face outline of (478, 2) plate points scaled about its centroid, (36, 2)."""
    oval = points[list(topo.FACE_OVAL), :2]
    centre = oval.mean(axis=0)
    return centre + scale * (oval - centre)


def warp_region(points: np.ndarray, width: int, height: int) -> Region:
    """The bounding rectangle of the matte for (478, 2) plate points, clipped to the plate."""
    oval = face_oval(points, MATTE_SCALE)
    x0, y0 = np.floor(oval.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(oval.max(axis=0)).astype(int) + 3
    return Region(max(0, x0), max(0, y0), min(width, x1), min(height, y1))


def padded_bounds(points: np.ndarray, pad: float, inside: Region) -> Region:
    """The pixels of (N, 2) plate ``points``' bounding box grown by ``pad`` pixels, clipped to ``inside``."""
    x0, y0 = np.floor(points.min(axis=0) - pad).astype(int)
    x1, y1 = np.ceil(points.max(axis=0) + pad).astype(int) + 1
    return Region(max(inside.x0, x0), max(inside.y0, y0), min(inside.x1, x1), min(inside.y1, y1))


def opening_columns(top: np.ndarray, bottom: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An opening between two contours (the lips', the lids'), per column: x in quarter-pixel steps over
    both contours, and the y of the upper and of the lower contour there (the lower never above the upper).
    top, bottom: (N, 2) plate pixels from corner to corner, the corners included. float64."""
    both = np.concatenate([top, bottom])
    columns = np.arange(both[:, 0].min(), both[:, 0].max() + 0.25, 0.25)
    order = np.argsort(top[:, 0])
    y_top = np.interp(columns, top[order, 0], top[order, 1])
    order = np.argsort(bottom[:, 0])
    y_bottom = np.interp(columns, bottom[order, 0], bottom[order, 1])
    return columns, y_top, np.maximum(y_bottom, y_top)


def reduced(points: np.ndarray, region: Region, pixels_per_iod: float) -> tuple[Region, np.ndarray]:
    """``region`` at most ``pixels_per_iod`` pixels per inter-ocular distance of the face at ``points``
    ((478, >=2) plate pixels): the smaller grid (a Region from 0, at least 2x2) and the points' (478, 2)
    positions on it. For work whose detail is tied to the face's size, so a 4K face costs what a 1080p one does."""
    iod = float(topo.interocular(points[None, :, :2])[0])
    factor = min(1.0, pixels_per_iod / iod)
    small = Region(0, 0, max(2, round(region.width * factor)), max(2, round(region.height * factor)))
    local = (points[:, :2] - [region.x0, region.y0]) * [small.width / region.width, small.height / region.height]
    return small, local


def coarse_grid(region: Region, iod: float, cells_per_iod: float) -> tuple[np.ndarray, int, int]:
    """The centres of a grid of ``cells_per_iod`` cells per IOD over ``region``, placed as cv2.resize's
    INTER_LINEAR expects, for a smooth map evaluated coarsely and upsampled: (ny * nx, 2) float32 points
    in IOD (plate pixels / ``iod``), row by row, then nx, ny."""
    nx = max(2, int(np.ceil(region.width / iod * cells_per_iod)))
    ny = max(2, int(np.ceil(region.height / iod * cells_per_iod)))
    gx = region.x0 + (np.arange(nx) + 0.5) * region.width / nx - 0.5
    gy = region.y0 + (np.arange(ny) + 0.5) * region.height / ny - 0.5
    return (np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2) / iod).astype(np.float32), nx, ny


def _tps_kernel(r2: np.ndarray, out: np.ndarray | None = None, scratch: np.ndarray | None = None) -> np.ndarray:
    """U(r) = r^2 log r = 0.5 r^2 log r^2, with U(0) = 0, as (0.5 * r2) * log(max(r2, 1e-20)); into ``out``
    (which may be ``r2``) with ``scratch`` (r2's shape and dtype) for the logarithms, else new arrays."""
    logs = np.maximum(r2, np.asarray(1e-20, dtype=r2.dtype), out=scratch)
    np.log(logs, out=logs)
    half = np.multiply(r2, np.asarray(0.5, dtype=r2.dtype), out=out)
    half *= logs
    return half


def tps_solve(control: np.ndarray, values: np.ndarray, regularisation: float = REGULARISATION) -> np.ndarray:
    """Thin-plate spline through ``values`` (N, D) at ``control`` (N, 2) points; returns its (N + 3, D)
    coefficients (the kernel weights, then the affine part) for :func:`tps_evaluate`. Units are the
    caller's (the engine works in IOD, where ``regularisation`` is IOD^2)."""
    n = len(control)
    system = np.zeros((n + 3, n + 3))
    sq = (control**2).sum(axis=1)
    r2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * control @ control.T, 0.0)
    system[:n, :n] = _tps_kernel(r2) + regularisation * np.eye(n)
    system[:n, n] = 1.0
    system[:n, n + 1 :] = control
    system[n, :n] = 1.0
    system[n + 1 :, :n] = control.T
    rhs = np.zeros((n + 3, values.shape[1]))
    rhs[:n] = values
    return np.linalg.solve(system, rhs)


def tps_evaluate(coef: np.ndarray, control: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The spline of :func:`tps_solve` at ``points`` (M, 2), (M, D); the kernel sums run in ``points``'s dtype
    (float32 plane pairs, D = 2, as every plan has them: fused in the compiled module, 3x numpy's speed)."""
    n = len(control)
    if points.dtype == np.float32 and coef.shape[1] == 2:
        from . import _resample

        sums = _resample.tps_sums(points, control.astype(np.float32), coef[:n].astype(np.float32),
                                  max(1, cv2.getNumThreads()))
        return sums + coef[n] + points @ coef[n + 1 :]
    c = control.astype(points.dtype)
    # Squared distances through one matrix product (|g|^2 + |c|^2 - 2 g.c): BLAS, not a 3-D temporary.
    # Two (M, N) arrays, reused in place: fewer large temporaries (about a third faster).
    cross = points @ c.T
    cross *= 2.0
    g2 = np.add((points**2).sum(axis=1)[:, None], (c**2).sum(axis=1)[None, :])
    g2 -= cross
    np.maximum(g2, 0.0, out=g2)
    return _tps_kernel(g2, out=g2, scratch=cross) @ coef[:n].astype(points.dtype) + coef[n] + points @ coef[n + 1 :]


def backward_field(source: np.ndarray, target: np.ndarray, region: Region) -> Field:
    """Where every pixel of ``region`` samples the source, as a compact displacement map: the thin-plate
    spline through the landmarks' motion on a coarse grid tied to the face's size.

    source, target: (N, 2) plate pixels; a feature at ``source`` must appear at ``target`` in the output.
    """
    iod = float(topo.interocular(source[None])[0])
    pins = np.concatenate([face_oval(source, s) for s in PIN_RINGS])
    chosen = list(topo.FIELD_CONTROL)
    control = np.concatenate([target[chosen], pins]) / iod
    values = np.concatenate([source[chosen] - target[chosen], np.zeros_like(pins)]) / iod
    coef = tps_solve(control, values)
    grid, nx, ny = coarse_grid(region, iod, CELLS_PER_IOD)
    offsets = (tps_evaluate(coef, control, grid) * iod).reshape(ny, nx, 2).astype(np.float32)
    return Field(region, np.ascontiguousarray(offsets))


def backward_offsets(source: np.ndarray, target: np.ndarray, region: Region) -> tuple[np.ndarray, np.ndarray]:
    """:func:`backward_field` at every pixel of ``region``: dx, dy, (region.height, region.width) float32; the
    pixel at (x, y) samples (x + dx, y + dy)."""
    return backward_field(source, target, region).offsets(region)


def backward_map(source: np.ndarray, target: np.ndarray, region: Region) -> tuple[np.ndarray, np.ndarray]:
    """:func:`backward_offsets` as absolute source coordinates: map_x, map_y (region.height, region.width)
    float32, for cv2.remap."""
    map_x, map_y = backward_offsets(source, target, region)
    map_x += np.arange(region.x0, region.x1, dtype=np.float32)[None, :]
    map_y += np.arange(region.y0, region.y1, dtype=np.float32)[:, None]
    return map_x, map_y


def spread_layers(layers: list[tuple[Region, np.ndarray, np.ndarray, np.ndarray]], region: Region
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Layers given over rectangles of ``region`` ((box, weight, map_x, map_y) each) as one (weight, map_x,
    map_y) over all of it: weight 0 and the identity map elsewhere; a later layer covers an earlier one."""
    xs = np.arange(region.x0, region.x1, dtype=np.float32)
    ys = np.arange(region.y0, region.y1, dtype=np.float32)
    full_w = np.zeros((region.height, region.width), np.float32)
    full_x = np.repeat(xs[None, :], region.height, axis=0)
    full_y = np.repeat(ys[:, None], region.width, axis=1)
    for box, weight, map_x, map_y in layers:
        inside = box.within(region)
        full_w[inside], full_x[inside], full_y[inside] = weight, map_x, map_y
    return full_w, full_x, full_y
