"""Stage 1b: hands in front of the face, found per frame so that the edit never bends a finger.

The detector is mediapipe 0.10.21's legacy hands solution (a palm detector, then 21 hand
landmarks per hand; both models ship inside the wheel, nothing is downloaded) in video mode, run
on the same 8-bit tracking view the face mesh sees. A frame's occluders are kept as the hands'
landmarks themselves: 2 hands x 21 points x (x, y) float32 = 336 bytes a frame, in one array for the
shot. They become a mask only when a frame is planned (:mod:`emotionedit.render.occlusion`), which
needs no pixels.

A hand anywhere in the frame is stored; the render ignores hands that do not reach the face.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .base import FrameRows
from .mediapipe_mesh import mediapipe_solution

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

#: Hands kept per frame (the two of one person; more would be another person's, far from the face).
MAX_HANDS = 2
#: mediapipe's hand landmarks: 0 wrist, 1-4 thumb, 5-8 index, 9-12 middle, 13-16 ring, 17-20 little finger.
HAND_POINTS = 21


@dataclass
class OccluderTrack:
    """Occluders of a shot, one row per analysed frame.

    hands: (T, MAX_HANDS, HAND_POINTS, 2) float32, plate pixels (x right, y down) of each hand's
    landmarks; a row of NaN where the frame has fewer hands.
    detector: the name of what found them (stored in the analysis file).
    """

    hands: np.ndarray
    detector: str = ""

    def __post_init__(self):
        hands = np.asarray(self.hands, dtype=np.float32)
        if hands.ndim != 4 or hands.shape[1:] != (MAX_HANDS, HAND_POINTS, 2):
            raise ValueError(f"hands must be (T, {MAX_HANDS}, {HAND_POINTS}, 2), got {hands.shape}")
        self.hands = hands

    @staticmethod
    def empty(frames: int, detector: str = "") -> OccluderTrack:
        """A shot of ``frames`` frames without any occluder."""
        return OccluderTrack(np.full((frames, MAX_HANDS, HAND_POINTS, 2), np.nan, dtype=np.float32), detector)

    @property
    def hand_count(self) -> np.ndarray:
        """(T,) int: hands found in each frame."""
        return np.isfinite(self.hands[:, :, 0, 0]).sum(axis=1)

    def __len__(self) -> int:
        return len(self.hands)


class MediaPipeHands:
    """mediapipe's hand landmarks in video mode: ``detect(rgb)`` -> list of (21, 2) float32 pixels.

    complexity: 0 (the lite landmark model, ~2x faster) or 1 (full). Both models are in the wheel.
    min_confidence: the palm detector's and the landmark tracker's thresholds.
    """

    name = "mediapipe-hands-0.10.21"

    def __init__(self, max_hands: int = MAX_HANDS, complexity: int = 0, min_confidence: float = 0.5):
        self._module = mediapipe_solution("hands")
        self._max_hands = max_hands
        self._complexity = complexity
        self._confidence = min_confidence
        self._hands = None

    def reset(self) -> None:
        """Forget the hands followed so far (call between shots)."""
        self.close()
        self._hands = self._module.Hands(
            static_image_mode=False, max_num_hands=self._max_hands, model_complexity=self._complexity,
            min_detection_confidence=self._confidence, min_tracking_confidence=self._confidence,
        )

    def close(self) -> None:
        if self._hands is not None:
            self._hands.close()
            self._hands = None

    def detect(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Hands in one (H, W, 3) uint8 RGB frame: (21, 2) float32 pixels of that frame each."""
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"detect expects (H, W, 3) uint8 RGB, got {rgb.shape} {rgb.dtype}")
        if self._hands is None:
            self.reset()
        height, width = rgb.shape[:2]
        result = self._hands.process(np.ascontiguousarray(rgb))
        found = []
        for hand in result.multi_hand_landmarks or []:
            points = np.array([(p.x, p.y) for p in hand.landmark], dtype=np.float32)
            points *= np.array([width, height], dtype=np.float32)
            found.append(points)
        return found


class OccluderTracker:
    """Collects the occluders of a shot frame by frame, from the views the face tracker also sees.

    ``add(rgb)`` for every frame in order ((H, W, 3) uint8 RGB, the tracking view), then
    ``result(factor)`` once, with the factor from view pixels to plate pixels. expected: the
    frames the shot has, when known (the hands' array is made once at that size,
    :class:`~emotionedit.track.base.FrameRows`).
    """

    def __init__(self, detector: MediaPipeHands | None = None, expected: int = 0):
        self.detector = detector or MediaPipeHands()
        self.detector.reset()
        self._rows = FrameRows((MAX_HANDS, HAND_POINTS, 2), np.float32, expected)
        self._previous: list[np.ndarray] = []  # the last frame's detections, before echoes were dropped

    def add(self, rgb: np.ndarray) -> None:
        row = np.full((MAX_HANDS, HAND_POINTS, 2), np.nan, dtype=np.float32)
        found = plausible_hands(self.detector.detect(rgb))
        for slot, hand in enumerate(distinct_hands(found, self._previous)[:MAX_HANDS]):
            row[slot] = hand
        self._previous = found
        self._rows.append(row)

    def result(self, factor: float = 1.0) -> OccluderTrack:
        """The shot's occluders in plate pixels (view pixels times ``factor``); call once, after the last frame."""
        if self._rows is None:
            raise RuntimeError("OccluderTracker.result() was already called; its hands were scaled in place")
        hands = self._rows.result()
        self._rows = None
        hands *= np.float32(factor)
        return OccluderTrack(hands, self.detector.name)

    def close(self) -> None:
        self.detector.close()


# A hand whose palm (wrist to the middle finger's root) is shorter than this fraction of its extent is a
# collapsed detection, not a hand.
MIN_PALM_FRACTION = 0.15
# Two hands sharing more than this fraction of the smaller one's box may be one hand found twice ...
DUPLICATE_OVERLAP = 0.5
# ... unless both continue a hand of the previous frame: landmarks within this many palm lengths (mean).
CONTINUES_PALMS = 0.25


def _box(hand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return hand.min(axis=0), hand.max(axis=0)


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection of two hands' boxes over the smaller box's area."""
    (a0, a1), (b0, b1) = _box(a), _box(b)
    inter = np.clip(np.minimum(a1, b1) - np.maximum(a0, b0), 0.0, None).prod()
    smaller = min((a1 - a0).prod(), (b1 - b0).prod())
    return float(inter / smaller) if smaller > 0 else 1.0


def plausible_hands(hands: list[np.ndarray]) -> list[np.ndarray]:
    """Drop collapsed detections: hands ((21, 2) each) whose palm is short for their extent."""
    kept = []
    for hand in hands:
        extent = float((hand.max(axis=0) - hand.min(axis=0)).max())
        if float(np.linalg.norm(hand[9] - hand[0])) >= MIN_PALM_FRACTION * extent > 0:
            kept.append(hand)
    return kept


def distinct_hands(hands: list[np.ndarray], previous: list[np.ndarray]) -> list[np.ndarray]:
    """The distinct hands of one frame, those that continue a hand of the previous frame first.

    hands: plausible detections of this frame, (21, 2) each; previous: the previous frame's
    plausible detections. The detector sometimes reports one hand twice, offset: a detection that
    lies mostly inside another's box and continues none of the previous frame's hands (when there
    were some) is that echo, and is dropped. Two hands that are both followed from frame to frame
    (clasped hands) are both kept.
    """

    def distance(hand: np.ndarray) -> float:
        """Mean landmark distance to the nearest previous hand, in palm lengths."""
        if not previous:
            return 0.0
        palm = max(float(np.linalg.norm(hand[9] - hand[0])), 1e-3)
        return min(float(np.linalg.norm(hand - h, axis=1).mean()) for h in previous) / palm

    kept: list[np.ndarray] = []
    for hand in sorted(hands, key=distance):
        echo = any(_overlap(hand, other) > DUPLICATE_OVERLAP for other in kept)
        if not echo or distance(hand) <= CONTINUES_PALMS:
            kept.append(hand)
    return kept
