"""Stage 2: the compact per-frame encoding (pose, neutral face, AU coefficients)."""

from .basis import AU_NAMES, AUS, BASIS_REVISION, build_basis
from .shot import FLAG_LOST, FLAG_PROFILE, FLAG_UNRELIABLE, ShotFit, fit_shot

__all__ = [
    "AUS", "AU_NAMES", "BASIS_REVISION", "FLAG_LOST", "FLAG_PROFILE", "FLAG_UNRELIABLE", "ShotFit", "build_basis",
    "fit_shot",
]
