"""Stage 1: dense face landmarks per frame, one chosen face followed through the shot."""

from .base import FaceSelection, FaceTrack, Tracker, TrackerOptions, track_frames
from .mediapipe_mesh import MediaPipeFaceMesh

__all__ = ["FaceSelection", "FaceTrack", "MediaPipeFaceMesh", "Tracker", "TrackerOptions", "track_frames"]
