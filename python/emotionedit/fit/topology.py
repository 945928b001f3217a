"""Named groups of mediapipe face-mesh vertices (478 points, refined lips, eyes, irises).

"Right" and "left" are the subject's own sides: the subject's right eye appears on
the image's left in a frontal view. Lists run from the subject's right to left
(image left to right) so columns of the upper and lower lip line up.
"""

from __future__ import annotations

import numpy as np

N_POINTS = 478

# Lips. Outer and inner contours, upper and lower, corner to corner.
LIPS_OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
LIPS_INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
MOUTH_CORNER_RIGHT, MOUTH_CORNER_LEFT = 61, 291
INNER_CORNER_RIGHT, INNER_CORNER_LEFT = 78, 308
# The inner lips' middles, upper and lower: the mouth's opening is the gap between them.
INNER_LIP_UPPER_MIDDLE, INNER_LIP_LOWER_MIDDLE = 13, 14
# All vertices of the lip ring (between outer and inner contours).
LIPS_UPPER = (
    61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308,
    184, 74, 73, 72, 11, 302, 303, 304, 408, 183, 42, 41, 38, 12, 268, 271, 272, 407, 62, 76, 77, 292,
    306, 307,
)
LIPS_LOWER = (
    146, 91, 181, 84, 17, 314, 405, 321, 375, 95, 88, 178, 87, 14, 317, 402, 318, 324,
    77, 90, 180, 85, 16, 315, 404, 320, 307, 96, 89, 179, 86, 15, 316, 403, 319, 325,
)

# Eyes: corners and lids (subject's right eye = image left).
RIGHT_EYE_OUTER, RIGHT_EYE_INNER = 33, 133
LEFT_EYE_OUTER, LEFT_EYE_INNER = 263, 362
RIGHT_UPPER_LID = (246, 161, 160, 159, 158, 157, 173)
RIGHT_LOWER_LID = (7, 163, 144, 145, 153, 154, 155)
LEFT_UPPER_LID = (466, 388, 387, 386, 385, 384, 398)
LEFT_LOWER_LID = (249, 390, 373, 374, 380, 381, 382)
RIGHT_IRIS = (468, 469, 470, 471, 472)
LEFT_IRIS = (473, 474, 475, 476, 477)

# Brows, inner end last.
RIGHT_BROW = (70, 63, 105, 66, 107, 46, 53, 52, 65, 55)
LEFT_BROW = (300, 293, 334, 296, 336, 276, 283, 282, 295, 285)
# The brows' upper edge, from the subject's right outer end to the left outer end.
BROWS_UPPER_EDGE = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300)
RIGHT_BROW_INNER, RIGHT_BROW_OUTER = 107, 70
LEFT_BROW_INNER, LEFT_BROW_OUTER = 336, 300

# Vertices on the face's midline, outside the lips (forehead, nose ridge, tip and base, chin).
MIDLINE = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 164, 18, 200, 199, 175, 152)

# Nose and cheeks.
NOSE_TIP = 1
NOSE_BRIDGE = (168, 6, 197, 195, 5, 4)
NOSE_WING_RIGHT, NOSE_WING_LEFT = 129, 358
CHEEK_RIGHT, CHEEK_LEFT = 50, 280
CHIN = 152

# The face outline, clockwise from the top of the forehead.
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)

# Points that move with the skull, not with expression: used for the rigid pose fit.
# Forehead, temples, nose bridge and tip, inner eye corners; no brows, lids, lips or jaw.
RIGID = (
    10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 109, 67, 103, 338, 297, 332,
    127, 162, 21, 356, 389, 251, 133, 362, 33, 263, 234, 454, 193, 417, 122, 351,
)


# Points no expression moves: eye corners, nose bridge, tip and nostrils.
EXPRESSION_FREE = (
    RIGHT_EYE_OUTER, RIGHT_EYE_INNER, LEFT_EYE_OUTER, LEFT_EYE_INNER, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2,
    98, 327, 97, 326, 64, 294, 240, 460, 75, 305,
)


def eye_centres(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the subject's right and left eyes (mean of the corners).

    points: (..., 478, D) array. Returns two (..., D) arrays.
    """
    right = 0.5 * (points[..., RIGHT_EYE_OUTER, :] + points[..., RIGHT_EYE_INNER, :])
    left = 0.5 * (points[..., LEFT_EYE_OUTER, :] + points[..., LEFT_EYE_INNER, :])
    return right, left


def interocular(points: np.ndarray) -> np.ndarray:
    """Inter-ocular distance (between eye centres) of (..., 478, D) points, shape (...)."""
    right, left = eye_centres(points)
    return np.linalg.norm(left - right, axis=-1)


def eye_opening(points: np.ndarray) -> np.ndarray:
    """Mean opening of the two eyes, upper to lower lid at their middles (y grows down), of (..., 478, D) points,
    shape (...)."""
    return 0.5 * ((points[..., 145, 1] - points[..., 159, 1]) + (points[..., 374, 1] - points[..., 386, 1]))


def _control_points() -> tuple[int, ...]:
    # Every vertex of the features an edit moves sharply (lips, lids, brows), the outline,
    # the nose, and every fourth vertex elsewhere: enough for a smooth field, ~half the cost.
    dense = set(LIPS_UPPER + LIPS_LOWER + RIGHT_UPPER_LID + RIGHT_LOWER_LID + LEFT_UPPER_LID + LEFT_LOWER_LID
                + RIGHT_BROW + LEFT_BROW + FACE_OVAL + EXPRESSION_FREE + RIGHT_IRIS[:1] + LEFT_IRIS[:1]
                + (NOSE_TIP, NOSE_WING_RIGHT, NOSE_WING_LEFT, CHEEK_RIGHT, CHEEK_LEFT, CHIN))
    sparse = set(range(0, 468, 4))
    return tuple(sorted(dense | sparse))


# The landmarks the displacement field is pinned to.
FIELD_CONTROL = _control_points()
