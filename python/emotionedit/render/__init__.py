"""Stage 4: warp the plate by the edited landmarks inside the feathered face matte, and shade the skin detail."""

from .field import Region, backward_map, warp_region
from .frame import Output, render_into
from .matte import face_matte

__all__ = ["Output", "Region", "backward_map", "face_matte", "render_into", "warp_region"]
