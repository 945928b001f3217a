"""The node's parameters, as the OFX host hands them over, mapped onto the engine's dataclasses.

The C++ node reads every parameter at the render time and passes ``{name: value}``
(ints for choices and switches, floats, strings). Names and choice orders are shared
with ``cpp/node/params.h``: choices index the engine's append-only enums, so a value
stored in a host project never changes meaning. The command line maps its options
onto the same :class:`~emotionedit.edit.EditParams` (see ``cli.EditCurves``), so a
frame rendered in a host and on a farm mean the same edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..edit import MODES, EditParams, Emotion, Region
from ..errors import UserError
from ..render import Output
from ..track import FaceSelection

# Script names (cpp/node/params.h): stored in host projects, never renamed.
EMOTION = "emotion"
INTENSITY = "intensity"
EMOTION2 = "emotion2"
BLEND = "blend"
LIP_PRESERVATION = "lipPreservation"
SKIN_DETAIL = "skinDetail"
MODE = "mode"
REGION_SWITCHES = {
    Region.BROWS: "regionBrows",
    Region.EYES: "regionEyes",
    Region.CHEEKS: "regionCheeks",
    Region.NOSE: "regionNose",
    Region.MOUTH: "regionMouth",
}
SMOOTHING = "smoothing"
ANALYSIS_FILE = "analysisFile"
FRAME_OFFSET = "frameOffset"
FACE = "face"
OUTPUT = "output"

#: Option labels the node shows, in enum order (checked against the C++ side by tests/node).
EMOTION_OPTIONS = tuple(e.name.capitalize() for e in Emotion)
EMOTION2_OPTIONS = ("None",) + EMOTION_OPTIONS
MODE_OPTIONS = tuple(m.capitalize() for m in MODES)
OUTPUT_OPTIONS = tuple({Output.MATTE: "Face Matte"}.get(o, o.name.capitalize()) for o in Output)


def _choice(values: Mapping[str, object], name: str, count: int) -> int:
    index = int(values[name])
    if not 0 <= index < count:
        raise UserError(f"parameter {name!r} has option {index}, but this EmotionEdit knows options 0..{count - 1}; "
                        "the project was saved by a newer EmotionEdit")
    return index


def _face(text: str) -> FaceSelection:
    try:
        return FaceSelection.parse(text.strip() or "largest")
    except UserError:
        raise UserError(f"Face must be 'largest', an index from the left such as 1, or 'x,y' in pixels; "
                        f"got {text!r}") from None


@dataclass(frozen=True)
class NodeParams:
    """Every parameter of one render, at its time."""

    edit: EditParams
    output: Output
    smoothing: float
    analysis_file: str
    frame_offset: int
    face: FaceSelection

    @staticmethod
    def from_values(values: Mapping[str, object]) -> NodeParams:
        """Map the host's values (``{script name: int | float | str}``) onto the engine's dataclasses.

        Raises :class:`UserError` for a value the engine refuses (e.g. intensity above its bound).
        """
        emotion2 = _choice(values, EMOTION2, len(EMOTION2_OPTIONS))
        edit = EditParams(
            emotion=Emotion(_choice(values, EMOTION, len(Emotion))),
            intensity=float(values[INTENSITY]),
            emotion2=Emotion(emotion2 - 1) if emotion2 > 0 else None,
            blend=float(values[BLEND]),
            lip_preservation=float(values[LIP_PRESERVATION]),
            mode=MODES[_choice(values, MODE, len(MODES))],
            regions=frozenset(r for r, name in REGION_SWITCHES.items() if int(values[name])),
            # A node built before Skin Detail existed does not send it: the engine's default.
            skin_detail=float(values.get(SKIN_DETAIL, EditParams.skin_detail)),
        ).validate()
        smoothing = float(values[SMOOTHING])
        if smoothing < 0:
            raise UserError(f"Smoothing must be >= 0 frames, got {smoothing:g}")
        return NodeParams(
            edit=edit,
            output=Output(_choice(values, OUTPUT, len(Output))),
            smoothing=smoothing,
            analysis_file=str(values[ANALYSIS_FILE]).strip(),
            frame_offset=int(values[FRAME_OFFSET]),
            face=_face(str(values[FACE])),
        )

    def frame_number(self, time: float) -> int:
        """The plate frame number of a host time: the nearest frame plus Frame Offset."""
        return int(round(time)) + self.frame_offset
