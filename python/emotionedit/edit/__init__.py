"""Stage 3: target emotions, intensity, blend, lip preservation and regions."""

from .emotions import Emotion, Region
from .expression import MAX_INTENSITY, MAX_SKIN_DETAIL, MODES, EditParams, ExpressionEditor

__all__ = ["MAX_INTENSITY", "MAX_SKIN_DETAIL", "MODES", "EditParams", "Emotion", "ExpressionEditor", "Region"]
