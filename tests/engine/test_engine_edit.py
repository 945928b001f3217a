"""What the edit does to the face geometry: direction, lip preservation, modes, regions, continuity."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from emotionedit.edit import EditParams, Emotion, Region
from emotionedit.edit.emotions import prototype_weights
from emotionedit.edit.expression import MAX_ACTIVATION, MAX_MEASURED_ACTIVATION
from emotionedit.edit.lipshape import OPEN_FROM, OPEN_FULL, THIN_PER_PRESS, LipThinning
from emotionedit.engine import ShotEditor
from emotionedit.fit import topology as topo
from emotionedit.fit.basis import AUS, MEASURED_AUS
from emotionedit.fit.measured import DATA_PATH as MEASURED_PATH


def _measures(points: np.ndarray) -> dict[str, float]:
    iod = float(topo.interocular(points[None])[0])
    corners = 0.5 * (points[topo.MOUTH_CORNER_RIGHT] + points[topo.MOUTH_CORNER_LEFT])
    return {
        "aperture": float(np.linalg.norm(points[14] - points[13])) / iod,
        "width": float(np.linalg.norm(points[topo.INNER_CORNER_LEFT] - points[topo.INNER_CORNER_RIGHT])) / iod,
        "jaw": float(np.linalg.norm(points[topo.CHIN] - points[topo.NOSE_TIP])) / iod,
        "corner_y": float(corners[1]) / iod,
        "inner_brow_y": float(0.5 * (points[107, 1] + points[336, 1])) / iod,
        "outer_brow_y": float(0.5 * (points[70, 1] + points[300, 1])) / iod,
        "upper_lip": float(np.linalg.norm(points[0] - points[13])) / iod,  # the upper lip's middle, outer to inner
        "lower_lip": float(np.linalg.norm(points[17] - points[14])) / iod,  # the lower lip's middle, outer to inner
        "upper_lid_y": float(0.5 * (points[159, 1] + points[386, 1])) / iod,
    }


def _change(editor, number, params):
    found = editor.targets(number, params)
    before, after = _measures(found.source), _measures(found.target)
    return {k: after[k] - before[k] for k in before}


def test_happy_smiles_as_people_do_and_keeps_speech_at_full_preservation(talking):
    _, analysis = talking
    editor = ShotEditor(analysis)
    for number in analysis.plate.frame_numbers[::8]:
        kept = _change(editor, number, EditParams(emotion=Emotion.HAPPY, lip_preservation=1.0))
        assert kept["corner_y"] < -0.02  # y points down: the corners rise
        # A person who talks while smiling widens the mouth (real broad smiles: ~0.2 IOD at the outer
        # corners) but keeps the speech opening and the jaw.
        assert 0.1 < kept["width"] < 0.3
        assert abs(kept["aperture"]) < 0.002
        assert abs(kept["jaw"]) < 0.01  # no jaw drop; franck's real closed-lip smiles move the chin 0.008 IOD
        free = _change(editor, number, EditParams(emotion=Emotion.HAPPY, lip_preservation=0.0))
        assert free["width"] == pytest.approx(kept["width"], abs=0.02)
        # ... and stretches the upper lip thinner (real open smiles: 0.016-0.020 IOD thinner).
        assert -0.025 < kept["upper_lip"] < -0.008


def test_lips_already_pressed_are_thinned_only_by_what_the_edit_adds_to_the_pressing(talking):
    """The source already shows the actor's own pressing (AU 23): replacing it with anger's 23 + 24 thins the lips
    by the net change; swapping it for as much AU 24 thins nothing."""
    _, analysis = talking
    editor = ShotEditor(analysis).editor
    thinning = editor._thinning
    actor = np.zeros(len(AUS))
    actor[AUS.index(23)] = 0.8
    change = editor.edit_change(actor, EditParams(emotion=Emotion.ANGRY, mode="replace"))
    swapped = change.copy()
    swapped[AUS.index(23)], swapped[AUS.index(24)] = -0.8, 0.8
    plain = lambda c: editor._lips.apply(np.einsum("ks,ksnd->nd", c, editor.basis), 1.0)  # noqa: E731
    lips = list(topo.LIPS_OUTER_UPPER + topo.LIPS_OUTER_LOWER)
    for c, net in ((change, 1.5 - 0.8), (swapped, 0.0)):
        got = editor.displacement(c, EditParams(emotion=Emotion.ANGRY, mode="replace"))
        want = thinning.apply(plain(c), float(np.clip(c[AUS.index(12)], 0.0, None).mean()), net)
        np.testing.assert_allclose(got[lips], want[lips], atol=1e-9)
    assert np.abs(editor.displacement(swapped, EditParams(emotion=Emotion.ANGRY, mode="replace"))[lips]
                  - plain(swapped)[lips]).max() < 1e-12  # a swap presses nothing more


def test_a_smile_on_an_open_mouth_lifts_the_lower_lip_whole(webcam_talking, talking, monkeypatch):
    """A real open smile lifts the lower lip over the teeth keeping its red height (the webcam actor's: -0.005 IOD
    against his open talking frames); the smile basis, measured on closed lips, grew it 0.032 taller there."""
    _, analysis = webcam_talking
    editor = ShotEditor(analysis)
    opening = {n: editor.editor.opening(editor._coefficients[analysis.index_of(n)])
               for n in analysis.plate.frame_numbers}
    wide = [n for n, o in opening.items() if o >= OPEN_FULL]
    assert len(wide) >= 10, "the webcam actor talks with his mouth open"
    taller = lambda: [_change(editor, n, EditParams(lip_preservation=1.0))["lower_lip"] for n in wide]  # noqa: E731
    kept = taller()
    assert max(abs(t) for t in kept) < 0.008, np.round(kept, 4)
    assert all(c["width"] > 0.1 for c in (_change(editor, n, EditParams()) for n in wide[::4]))  # still a smile
    monkeypatch.setattr(LipThinning, "keep_lower_lip", lambda self, delta, opening: delta)
    assert np.median(taller()) > 0.02  # the basis alone: a taller, redder lower lip
    monkeypatch.undo()
    # Lips that touch keep the basis as measured on closed smiles: franck's talking lips stay under OPEN_FROM
    # (0.009 IOD at most), and nothing is taken back there.
    _, closed = talking
    franck = ShotEditor(closed)
    openings = [franck.editor.opening(c) for c in franck._coefficients]
    assert max(openings) < OPEN_FROM
    for coefficients, opening in zip(franck._coefficients, openings, strict=True):
        change = franck.editor.edit_change(coefficients, EditParams())
        np.testing.assert_array_equal(franck.editor.displacement(change, EditParams(), opening),
                                      franck.editor.displacement(change, EditParams(), 0.0))


def test_the_lower_lip_is_open_or_closed_as_its_own_frame_is(webcam_talking):
    """Whether the lips touch is each frame's own, as its speech is: a closed mouth next to an open one keeps the
    smile's closed lower lip. Judged from the smoothed coefficients, the open lower lip ran ahead of the opening
    and lagged behind it (cap12 385 and 425: lips together, a third to two thirds taken back)."""
    _, analysis = webcam_talking
    editor = ShotEditor(analysis)
    numbers = analysis.plate.frame_numbers
    opening = {n: _measures(analysis.track.landmarks[analysis.index_of(n), :, :2])["aperture"] for n in numbers}
    closed = [n for n in numbers if opening[n] < 0.5 * OPEN_FROM]
    beside_open = [n for n in closed if max(opening.get(n + d, 0.0) for d in (-2, -1, 1, 2)) >= OPEN_FULL]
    far = [n for n in closed if all(opening.get(n + d, 0.0) < OPEN_FROM for d in range(-4, 5))]
    assert len(beside_open) >= 2 and len(far) >= 2, (beside_open, far)
    taller = {n: _change(editor, n, EditParams())["lower_lip"] for n in beside_open + far}
    resting = float(np.median([taller[n] for n in far]))
    assert resting > 0.02  # the closed smile's lower lip, as measured
    for n in beside_open:
        assert taller[n] > 0.9 * resting, (n, round(taller[n], 4), round(resting, 4))


def test_the_lip_corners_keep_their_speech_motion_at_full_lip_preservation(webcam_talking):
    """The webcam actor's corners go down as his jaw opens each syllable (the fit reads it as AU 15 and 20 coming
    and going). Neutral removes what he holds, not that: at w = 1 the corners move as his do; at w = 0 the mouth is
    the resting face's, and the corners move less."""
    _, analysis = webcam_talking
    editor = ShotEditor(analysis)

    def corners(params):
        found = [editor.targets(n, params) for n in analysis.plate.frame_numbers]
        source, target = (np.array([getattr(f, side) for f in found]) for side in ("source", "target"))
        iod = topo.interocular(source)
        height = lambda p: (p[:, [topo.MOUTH_CORNER_RIGHT, topo.MOUTH_CORNER_LEFT], 1].mean(axis=1)  # noqa: E731
                            - p[:, topo.NOSE_TIP, 1]) / iod
        return height(source), height(target)

    source, kept = corners(EditParams(emotion=Emotion.NEUTRAL, lip_preservation=1.0))
    assert source.std() > 0.015  # his corners move with speech
    assert np.corrcoef(source, kept)[0, 1] > 0.95 and kept.std() > 0.8 * source.std()
    # A smile lets go of what he holds of AU 15 and holds his corners against speech: they still move as his do,
    # by about a third as much (real smiles couple the corners to the opening 0-0.8x as much as talking does; let go
    # of whole, the corners stood still: r 0.2, a third of his motion kept: r 0.93, slope 0.33).
    _, smiling = corners(EditParams(emotion=Emotion.HAPPY, lip_preservation=1.0))
    assert np.corrcoef(source, smiling)[0, 1] > 0.8 and (source - smiling).mean() > 0.05
    slope = np.polyfit(source - source.mean(), smiling - smiling.mean(), 1)[0]
    assert 0.15 < slope < 0.6
    _, resting = corners(EditParams(emotion=Emotion.NEUTRAL, lip_preservation=0.0))
    assert resting.std() < 0.6 * source.std()


def test_anger_glares_and_presses_the_lips_while_speech_keeps_its_opening(talking):
    _, analysis = talking
    editor = ShotEditor(analysis)
    for number in analysis.plate.frame_numbers[::16]:
        kept = _change(editor, number, EditParams(emotion=Emotion.ANGRY, lip_preservation=1.0))
        assert kept["inner_brow_y"] > 0.05  # the brows come down (y points down) ...
        assert kept["upper_lid_y"] < -0.02  # ... and the upper lids go up under them: the glare, not a squint
        # AU 23 and 24 narrow both lips' red parts (a third of franck's upper lip, a sixth of his lower), the opening
        # stays speech's.
        assert kept["upper_lip"] < -0.015
        assert kept["lower_lip"] < -0.015
        assert abs(kept["aperture"]) < 0.002
        # At the most intensity, lips still show: no outer edge is pressed past 60 % of the lip's red height.
        found = editor.targets(number, EditParams(emotion=Emotion.ANGRY, intensity=2.0, lip_preservation=1.0))
        before, after = _measures(found.source), _measures(found.target)
        assert after["upper_lip"] > 0.3 * before["upper_lip"]
        assert after["lower_lip"] > 0.3 * before["lower_lip"]
        # Taking emotion out (the actor's own lip pressing included) never thins the lips.
        calm = _change(editor, number, EditParams(emotion=Emotion.NEUTRAL, lip_preservation=1.0))
        assert calm["upper_lip"] > -0.003
        assert calm["lower_lip"] > -0.003


def test_pressed_lips_keep_part_of_their_red_however_hard_they_press():
    face = np.load(MEASURED_PATH)["reference_neutral"]
    thinning = LipThinning(face)
    # Signed red heights (y points down): the upper lip's outer edge (0) above its inner edge (13), the lower lip's
    # outer edge (17) below its inner edge (14); a pressed edge crossing the inner one would turn negative.
    upper = lambda d: float((face + d)[13, 1] - (face + d)[0, 1])  # noqa: E731
    lower = lambda d: float((face + d)[17, 1] - (face + d)[14, 1])  # noqa: E731
    rest = np.zeros_like(face)
    for press in (1.5, 3.0, 10.0):
        moved = thinning.apply(rest, 0.0, press)
        assert upper(moved) > 0.35 * upper(rest)
        assert lower(moved) > 0.35 * lower(rest)
        assert np.all(moved[list(topo.LIPS_INNER_UPPER + topo.LIPS_INNER_LOWER)] == 0.0)  # speech's edges stay
    # Below the cap a press thins as much as asked (the lip's middle, where the taper is all but 1).
    light = thinning.apply(rest, 0.0, 1.0)
    assert upper(light) == pytest.approx(upper(rest) - THIN_PER_PRESS, abs=0.001)
    assert lower(light) == pytest.approx(lower(rest) - THIN_PER_PRESS, abs=0.001)


def test_surprise_opens_the_jaw_only_without_preservation(talking):
    _, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[20]
    free = _change(editor, number, EditParams(emotion=Emotion.SURPRISED, lip_preservation=0.0))
    half = _change(editor, number, EditParams(emotion=Emotion.SURPRISED, lip_preservation=0.5))
    kept = _change(editor, number, EditParams(emotion=Emotion.SURPRISED, lip_preservation=1.0))
    assert free["jaw"] > 0.03
    assert abs(kept["jaw"]) < 0.002
    assert kept["inner_brow_y"] < -0.03  # the brows still rise
    assert kept["outer_brow_y"] < -0.03  # the outer brows too (they lie near the face's outline)
    assert free["jaw"] > half["jaw"] > kept["jaw"]


def test_intensity_is_continuous_and_monotonic(talking):
    _, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[0]
    lift = lambda i: _change(editor, number, EditParams(intensity=i))["corner_y"]  # noqa: E731
    lifts = [lift(i) for i in np.linspace(0, 1, 5)]
    assert lifts[0] == 0.0
    assert all(b < a for a, b in zip(lifts, lifts[1:], strict=False))
    steps = np.diff(lifts)
    assert steps.max() - steps.min() < 0.5 * abs(steps.mean()) + 1e-9  # no jumps
    # Past 1 the prototype exaggerates until an AU saturates at MAX_ACTIVATION, never reverses.
    beyond = [lift(i) for i in np.linspace(1, 2, 5)]
    assert all(b <= a + 1e-12 for a, b in zip(beyond, beyond[1:], strict=False))
    assert beyond[-1] < beyond[0]


@pytest.mark.parametrize("emotion", [e for e in Emotion if e != Emotion.NEUTRAL])
def test_every_feature_moves_one_way_as_the_intensity_rises(talking, smiling, emotion):
    """A compositor dialling an emotion up to 2 sees it grow, then hold, never turn back: sadness's brows once came
    down again past 1 (its inner-brow raiser saturated while the lowerer kept growing), anger's eyes closed again
    past 1.4. On real talking and smiling frames, each measure of the face changes one way from 0 to 2."""
    # What shows an emotion (the mouth's width and lips are left out: a release of the actor's antagonist, done at
    # intensity 1, can turn a secondary measure's way, as sadness's widening corners do after a smile let go of).
    features = ("corner_y", "inner_brow_y", "outer_brow_y", "upper_lid_y")
    for _, analysis in (talking, smiling):
        editor = ShotEditor(analysis)
        for number in analysis.plate.frame_numbers[::16]:
            path = [_change(editor, number, EditParams(emotion=emotion, intensity=i, lip_preservation=0.5))
                    for i in np.linspace(0.0, 2.0, 21)]
            for name in features:
                values = np.array([step[name] for step in path])
                sign = np.sign(values[np.argmax(np.abs(values))])
                assert (np.diff(values) * sign > -1e-4).all(), (emotion.name, number, name, np.round(values, 4))


def test_surprise_keeps_its_brows_level_past_intensity_1(talking):
    """Surprise's outer-brow raiser (AU 2) is at its most at intensity 1; the inner (AU 1) is not. Saturated one by one
    the inner brows kept rising alone: oblique, worried brows, which viewers named sad. Together they hold."""
    _, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[0]
    tilt = {}
    for i in (1.0, 2.0):
        moved = _change(editor, number, EditParams(emotion=Emotion.SURPRISED, intensity=i))
        tilt[i] = moved["outer_brow_y"] - moved["inner_brow_y"]  # y down: > 0 when the inner ends rise more
    assert tilt[2.0] < tilt[1.0] + 0.002, tilt


def test_replace_removes_the_actors_smile(smiling):
    _, analysis = smiling
    editor = ShotEditor(analysis)
    assert analysis.fit.smile_removed > 0.3, "franck's smiling shot should be recognised as smiling throughout"
    number = analysis.plate.frame_numbers[24]
    # Sadness pulls the corners down: on his smile, even "add" lets go of the smile's lift (antagonists).
    for mode in ("add", "replace"):
        sad = _change(editor, number, EditParams(emotion=Emotion.SAD, mode=mode))
        assert sad["corner_y"] > 0.1 and sad["width"] < -0.15, (mode, sad)
    # Replace removes all of his emotion, the cheek raise too; add keeps what sadness does not work against.
    coefficients = editor._coefficients[analysis.index_of(number)]
    cheek = AUS.index(6)
    assert coefficients[cheek] > 0.2, "a broad smile raises the cheeks"
    add = editor.editor.edit_change(coefficients, EditParams(emotion=Emotion.SAD, mode="add"))
    replace = editor.editor.edit_change(coefficients, EditParams(emotion=Emotion.SAD, mode="replace"))
    assert np.allclose(add[cheek], 0.0) and np.allclose(replace[cheek], -coefficients[cheek])
    neutral = _change(editor, number, EditParams(emotion=Emotion.NEUTRAL))
    assert neutral["corner_y"] > 0.02


@pytest.mark.parametrize(("emotion", "released", "kept"), [
    (Emotion.HAPPY, (15,), (4, 1, 7)),          # a smile lets go of drawn-down corners, not of a frown
    (Emotion.SURPRISED, (4, 7), (15, 12)),      # raised brows and opened lids let go of lowered, tightened ones
    (Emotion.SAD, (12, 2), (4, 1, 6)),          # sadness uses AU 1 and 4 together: neither is released
])
def test_adding_an_emotion_releases_the_muscles_that_pull_against_it(talking, emotion, released, kept):
    _, analysis = talking
    editor = ShotEditor(analysis).editor
    actor = np.zeros(len(AUS))
    for au in (1, 2, 4, 6, 7, 12, 15):
        actor[AUS.index(au)] = 0.5
    for intensity in (0.5, 1.0):
        change = editor.activation_change(actor, EditParams(emotion=emotion, intensity=intensity))
        added = intensity * prototype_weights(emotion)
        for au in released:  # removed in step with the intensity (fully from 1 on)
            assert np.allclose(change[AUS.index(au)] - added[AUS.index(au)], -0.5 * intensity), (emotion, au)
        for au in kept:  # the actor's own activation stays: the change is the prototype's alone (up to the ceiling)
            ceiling = MAX_MEASURED_ACTIVATION if au in MEASURED_AUS else MAX_ACTIVATION
            expected = np.minimum(added[AUS.index(au)], ceiling - 0.5)
            if emotion == Emotion.SAD and au == 4:  # AU 1 saturates (1.5 left of its 2.0): AU 4 keeps the balance
                expected = added[AUS.index(4)] * min(1.0, 1.5 / added[AUS.index(1)].mean())
            assert np.allclose(change[AUS.index(au)], expected), (emotion, au)


def test_a_one_sided_emotion_releases_the_antagonist_on_its_side_only(talking):
    """Contempt lifts one corner: the actor's drawn-down corners (AU 15) are let go of on that side only, so
    the other corner stays where the actor holds it (let go on both, it rose too)."""
    _, analysis = talking
    editor = ShotEditor(analysis).editor
    actor = np.zeros(len(AUS))
    actor[AUS.index(15)] = 0.5
    weights = prototype_weights(Emotion.CONTEMPT)[AUS.index(12)]
    side = int(np.argmax(weights))
    change = editor.activation_change(actor, EditParams(emotion=Emotion.CONTEMPT, intensity=1.0))[AUS.index(15)]
    assert weights[1 - side] == 0.0
    assert change[side] == pytest.approx(-0.5) and change[1 - side] == pytest.approx(0.0)


def test_regions_switch_parts_of_the_edit_off(talking):
    _, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[0]
    params = EditParams(emotion=Emotion.SURPRISED, lip_preservation=0.0)
    no_brows = EditParams(emotion=Emotion.SURPRISED, lip_preservation=0.0,
                          regions=frozenset(Region) - {Region.BROWS})
    full = _change(editor, number, params)
    partial = _change(editor, number, no_brows)
    assert abs(partial["inner_brow_y"]) < 0.2 * abs(full["inner_brow_y"])
    assert partial["jaw"] == pytest.approx(full["jaw"], rel=0.2)


def test_blend_moves_between_two_emotions(talking):
    _, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[0]
    happy = _change(editor, number, EditParams(emotion=Emotion.HAPPY))
    sad = _change(editor, number, EditParams(emotion=Emotion.SAD))
    mid = _change(editor, number, EditParams(emotion=Emotion.HAPPY, emotion2=Emotion.SAD, blend=0.5))
    assert happy["corner_y"] < mid["corner_y"] < sad["corner_y"]


def test_the_edit_fades_out_before_the_face_is_lost_and_back_in_after(talking):
    """Where the face leaves the frame (or turns away) the edit does not pop off at the first lost frame."""
    _, analysis = talking
    lost = analysis.fit.flags.copy()
    assert not lost.any(), "the talking clip should have a usable face in every frame"
    lost[20:26] = 1  # six frames without a usable face
    shot = copy.deepcopy(analysis)
    shot.fit.flags[...] = lost
    editor, whole = ShotEditor(shot), ShotEditor(analysis)
    numbers = analysis.plate.frame_numbers

    def moved(ed, i):
        found = ed.targets(numbers[i], EditParams())
        return 0.0 if found is None else float(np.abs(found.target - found.source).max())

    before = [moved(editor, i) / moved(whole, i) for i in range(12, 20)]
    after = [moved(editor, i) / moved(whole, i) for i in range(26, 34)]
    assert all(editor.targets(numbers[i], EditParams()) is None for i in range(20, 26))
    # Not faded there (the mouth's slow part, smoothed over a second within each run of kept frames, moves 1e-4).
    assert before[:2] == pytest.approx([1.0, 1.0], abs=1e-3) and after[-2:] == pytest.approx([1.0, 1.0], abs=1e-3)
    assert all(a > b for a, b in zip(before[2:], before[3:], strict=False))  # falling toward the lost frames
    assert all(a < b for a, b in zip(after[:6], after[1:6], strict=False))  # rising after them
    assert 0.0 < before[-1] < 0.25 and 0.0 < after[0] < 0.25  # the last kept frame holds a small share
