"""The thin-plate spline's evaluation (render/field.py's tps_evaluate): the fused float32 sums of the compiled module
(cpp/engine/thin_plate.cpp) against the plain float64 evaluation, on a real frame's field and texture map."""

from __future__ import annotations

import numpy as np
import pytest

from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor
from emotionedit.fit import topology as topo
from emotionedit.render import _resample
from emotionedit.render.detail import ANCHORS, detail_maps
from emotionedit.render.field import (
    CELLS_PER_IOD,
    PIN_RINGS,
    coarse_grid,
    face_oval,
    tps_evaluate,
    tps_solve,
    warp_region,
)


def real_splines(talking):
    """(coefficients, control points, grid) of franck's frames' two splines: the field through the moved landmarks
    and the pins (IOD), and the texture map through the anchors."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    height, width = frames[0].shape[:2]
    for index in (4, 20):
        found = editor.targets(analysis.plate.frame_numbers[index],
                               EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0))
        source, target = found.source, found.target
        iod = float(topo.interocular(source[None])[0])
        region = warp_region(source, width, height)
        grid = coarse_grid(region, iod, CELLS_PER_IOD)[0]
        chosen = list(topo.FIELD_CONTROL)
        pins = np.concatenate([face_oval(source, s) for s in PIN_RINGS])
        control = np.concatenate([target[chosen], pins]) / iod
        values = np.concatenate([source[chosen] - target[chosen], np.zeros_like(pins)]) / iod
        yield tps_solve(control, values), control, grid, 1.2e-4
        anchors = source[list(ANCHORS), :2].astype(np.float64) / iod
        yield tps_solve(anchors, detail_maps().layout.points), anchors, grid, 0.01


def test_the_fused_evaluation_is_the_splines_value(talking):
    """Within float32's reach of the exact (float64) value, which the sums' cancellation sets: the field (in IOD)
    within 1.2e-4 IOD (0.05 px for a 4K face), the texture map within 0.01 texel. numpy's float32 evaluation,
    which this replaced, was off by up to 1.9e-4 IOD and 0.024 texel on these frames."""
    for coef, control, grid, tolerance in real_splines(talking):
        exact = tps_evaluate(coef, control, grid.astype(np.float64))
        fused = tps_evaluate(coef, control, grid)
        assert fused.shape == exact.shape
        assert np.abs(fused - exact).max() <= tolerance


def test_the_sums_do_not_depend_on_the_thread_count(talking):
    """A frame renders the same on a farm node with 2 cores and a workstation with 32."""
    for coef, control, grid, _ in real_splines(talking):
        n = len(control)
        sums = [_resample.tps_sums(grid, control.astype(np.float32), coef[:n].astype(np.float32), threads)
                for threads in (1, 3, 16)]
        assert all(np.array_equal(sums[0], other) for other in sums[1:])


def test_bad_shapes_are_refused_not_crashed():
    points, control, weights = np.zeros((5, 2), np.float32), np.zeros((3, 2), np.float32), np.zeros((3, 2), np.float32)
    for bad in (dict(points=np.zeros((5, 3), np.float32)), dict(control=np.zeros(3, np.float32)),
                dict(weights=np.zeros((4, 2), np.float32))):
        arguments = dict(points=points, control=control, weights=weights, threads=2) | bad
        with pytest.raises(ValueError):
            _resample.tps_sums(**arguments)
