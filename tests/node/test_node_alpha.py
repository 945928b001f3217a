"""Straight (unpremultiplied) alpha: the node warps colour premultiplied, so colour hidden under alpha 0
never bleeds into visible pixels, and opaque or premultiplied images render exactly as before.

The first test drives ``emotionedit.node.alpha`` with a stand-in warp; the others render real
franck frames through the bundle in the test host, through either transport.
"""

from __future__ import annotations

import numpy as np
import pytest
from ofxhost import Frame, engine_env, run

from emotionedit.io import open_frames
from emotionedit.node.alpha import render_straight_alpha

FIRST = 672
MAGENTA, GREEN = (255, 0, 255), (0, 255, 0)


def half_pixel_shift(out: np.ndarray, plate: np.ndarray) -> None:
    """A stand-in warp over the middle of the plate: each pixel there becomes the mean of itself and its right
    neighbour (bilinear sampling half a pixel over)."""
    out[...] = plate
    out[2:6, 2:6] = (plate[2:6, 2:6] + plate[2:6, 3:7]) / 2


def striped(colour: tuple[int, int, int], hidden: tuple[int, int, int]) -> np.ndarray:
    """8x8 RGBA uint8: ``colour``, except every other column is transparent and holds ``hidden``."""
    image = np.empty((8, 8, 4), np.uint8)
    image[...] = (*colour, 255)
    image[:, 1::2] = (*hidden, 0)
    return image


def test_hidden_colour_does_not_bleed():
    grey = (100, 100, 100)
    a, b = np.empty((8, 8, 4), np.uint8), np.empty((8, 8, 4), np.uint8)
    render_straight_alpha(half_pixel_shift, a, striped(grey, MAGENTA))
    render_straight_alpha(half_pixel_shift, b, striped(grey, GREEN))
    visible = a[..., 3] > 0
    # Every pixel the warp reached is half visible grey and half nothing: grey at half alpha, whatever was hidden.
    np.testing.assert_array_equal(a[2:6, 2:6], np.broadcast_to((*grey, 128), (4, 4, 4)))
    np.testing.assert_array_equal(a[visible], b[visible])
    # Untouched pixels keep their values, hidden colour included.
    np.testing.assert_array_equal(a[:2], striped(grey, MAGENTA)[:2])


def test_opaque_alpha_takes_the_plain_render():
    """Opaque everywhere: the engine gets the image itself (bit-identical to the command line's render)."""
    image = striped((10, 20, 30), MAGENTA)
    image[..., 3] = 255
    seen = []

    def render(out, plate):
        seen.append(plate)
        out[...] = plate

    out = np.empty_like(image)
    render_straight_alpha(render, out, image)
    assert seen[0] is image
    np.testing.assert_array_equal(out, image)


@pytest.fixture(scope="module")
def frames(franck_path):
    with open_frames(str(franck_path), (FIRST, FIRST + 1)) as reader:
        return dict(iter(reader))


def with_alpha(picture: np.ndarray, hidden: tuple[int, int, int] | None) -> np.ndarray:
    """RGBA of ``picture``: opaque (hidden None), or with alpha 0 on every fourth column (holding ``hidden``)
    and 128 on the columns between."""
    image = np.concatenate([picture, np.full(picture.shape[:2] + (1,), 255, np.uint8)], axis=2)
    if hidden is not None:
        image[:, 0::4] = (*hidden, 0)
        image[:, 2::4, 3] = 128
    return image


@pytest.mark.usefixtures("node_built")
@pytest.mark.parametrize("transport", ["in-process", "server"])
def test_node_warps_straight_alpha_premultiplied(tmp_path, frames, analysis_file, transport):
    """Two versions of a frame that differ only in colour under alpha 0 render to the same visible pixels;
    the face is edited; an opaque frame declared unpremultiplied renders exactly as when declared
    premultiplied (the command line's render, see test_node_render)."""
    env = engine_env(EMOTIONEDIT_TRANSPORT=transport)
    params = {"analysisFile": analysis_file, "emotion": "Happy", "intensity": 1}
    opaque = FIRST + 1
    source = {colour: with_alpha(frames[FIRST], colour) for colour in (MAGENTA, GREEN)}
    a = run(tmp_path, [Frame(FIRST, source[MAGENTA]), Frame(opaque, with_alpha(frames[opaque], None))], params,
            premultiplication="unpremultiplied", env=env)
    b = run(tmp_path, [Frame(FIRST, source[GREEN])], params, premultiplication="unpremultiplied", env=env)
    premultiplied = run(tmp_path, [Frame(opaque, with_alpha(frames[opaque], None))], params,
                        premultiplication="premultiplied", env=env)
    for result in (a, b, premultiplied):
        assert all(result.status(n) == 0 for n in result.renders), result.stdout[-2000:]
    assert f"PREFS time={FIRST:.6f} premultiplication=OfxImageAlphaUnPremultiplied" in a.lines
    got_a, got_b = a.outputs[FIRST], b.outputs[FIRST]
    visible = got_a[..., 3] > 0
    np.testing.assert_array_equal(visible, got_b[..., 3] > 0)
    edited = (got_a != source[MAGENTA]).any(axis=2) & visible
    assert edited.sum() > 500, edited.sum()
    np.testing.assert_array_equal(got_a[visible], got_b[visible])
    np.testing.assert_array_equal(a.outputs[opaque], premultiplied.outputs[opaque])


@pytest.mark.usefixtures("node_built")
def test_straight_alpha_away_from_the_face_leaves_the_plain_render(tmp_path, frames, analysis_file):
    """Transparent pixels only far from the face (outside what the warp reads): nothing can bleed into the
    face, so the frame renders exactly as when declared premultiplied (the command line's render), and the
    transparent corner passes through untouched."""
    params = {"analysisFile": analysis_file, "emotion": "Happy", "intensity": 1}
    image = with_alpha(frames[FIRST], None)
    image[:12, :12] = (*MAGENTA, 0)  # the top-left corner; franck's face is in the middle of the frame
    straight = run(tmp_path, [Frame(FIRST, image)], params, premultiplication="unpremultiplied")
    plain = run(tmp_path, [Frame(FIRST, image)], params, premultiplication="premultiplied")
    assert straight.status(FIRST) == 0 and plain.status(FIRST) == 0, straight.text(FIRST)
    assert (plain.outputs[FIRST] != image).any(axis=2).sum() > 500, "the face should be edited"
    np.testing.assert_array_equal(straight.outputs[FIRST], plain.outputs[FIRST])
