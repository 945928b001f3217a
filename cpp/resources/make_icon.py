"""Draw the node's icon: Contents/Resources/io.emotionedit.EmotionEdit.png (256 px RGBA).

Run once and commit the PNG (the build copies it; it does not need Python or OpenCV):
    python cpp/resources/make_icon.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SIZE = 256
SUPERSAMPLE = 4  # drawn large, then shrunk: smooth edges in colour and alpha


def draw() -> np.ndarray:
    n = SIZE * SUPERSAMPLE
    s = SUPERSAMPLE
    rgba = np.zeros((n, n, 4), np.uint8)
    # Rounded square, a vertical gradient from warm orange to magenta.
    mask = np.zeros((n, n), np.uint8)
    r = 48 * s
    cv2.rectangle(mask, (r, 8 * s), (n - r, n - 8 * s), 255, -1)
    cv2.rectangle(mask, (8 * s, r), (n - 8 * s, n - r), 255, -1)
    for cx, cy in ((r, r), (n - r, r), (r, n - r), (n - r, n - r)):
        cv2.circle(mask, (cx, cy), r - 8 * s, 255, -1)
    t = np.linspace(0.0, 1.0, n)[:, None]
    top, bottom = np.array([255, 176, 64]), np.array([214, 56, 140])
    rgba[..., :3] = (top * (1 - t)[..., None] + bottom * t[..., None]).astype(np.uint8)
    rgba[..., 3] = mask
    # A face: a head outline, two eyes and a smile (RGB order; cv2 only sees numbers).
    white = (255, 255, 255, 255)
    cv2.circle(rgba, (n // 2, n // 2), 84 * s, white, 10 * s, cv2.LINE_AA)
    for x in (n // 2 - 30 * s, n // 2 + 30 * s):
        cv2.circle(rgba, (x, n // 2 - 22 * s), 10 * s, white, -1, cv2.LINE_AA)
    cv2.ellipse(rgba, (n // 2, n // 2 + 10 * s), (46 * s, 36 * s), 0, 20, 160, white, 10 * s, cv2.LINE_AA)
    rgba[..., 3] = np.minimum(rgba[..., 3], mask)
    return cv2.resize(rgba, (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def main() -> None:
    out = Path(__file__).with_name("io.emotionedit.EmotionEdit.png")
    rgba = draw()
    cv2.imwrite(str(out), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    print(f"wrote {out} ({SIZE}x{SIZE} RGBA)")


if __name__ == "__main__":
    main()
