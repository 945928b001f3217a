"""Print the acceptance figures of docs/results/acceptance.json as a table."""

from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    r = json.loads(open(path).read())

    def row(name, pair, target):
        e, lip = pair["emotion"], pair["lip_sync"]
        print(f"| {name} | {e['source_mean'][target]:.3f} | {e['edited_mean'][target]:.3f} | "
              f"{lip['aperture_correlation']} | {lip['aperture_mean_abs_diff']:.4f} | {lip['mlmd']:.4f} | "
              f"{pair['identity']['mean_distance']:.3f} | {pair['head_pose']['mean_drift_deg']:.2f} / "
              f"{pair['head_pose']['max_drift_deg']:.2f} | {pair['head_pose']['refit_mean_drift_deg']:.2f} | "
              f"{pair['flicker']['edited_to_source_ratio']:.3f} | "
              f"{pair['outside_face']['pixels']} |")

    print("| case | P(target) source | P(target) edited | aperture r | mean abs aperture diff (IOD) | M-LMD (IOD) "
          "| identity distance | pose drift mean / max (deg) | dlib refit pose drift mean (deg) | flicker ratio "
          "| pixels changed outside face |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    sweep = r["happy_sweep"]
    for intensity, pair in zip(sweep["sweep"]["intensities"], sweep["pairs"], strict=True):
        row(f"talking, happy, i={intensity}, w=1", pair, "happy")
    for w, pair in r["lip_preservation"].items():
        row(f"talking, happy, i=1, w={w}" if w != "jpeg_q90_floor" else "talking, unedited, JPEG q90", pair, "happy")
    for intensity, pair in r["sad_replace"].items():
        row(f"smiling, sad replace, i={intensity}, w=1 (target sad)", pair, "sad")
        e = pair["emotion"]
        print(f"|  ... P(happy) | {e['source_mean']['happy']:.3f} | {e['edited_mean']['happy']:.3f} ||||||||")
    s = sweep["sweep"]
    print(f"\nhappy sweep: spearman {s.get('spearman')}, rising at every step: {s.get('monotonic')}")


if __name__ == "__main__":
    main(sys.argv[1])
