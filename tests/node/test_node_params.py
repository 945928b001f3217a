"""The node's parameters: the C++ descriptor, the Python mapping and the command line agree."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from ofxhost import bundle_path, describe

from emotionedit.cli import EditCurves, build_parser
from emotionedit.edit import MAX_INTENSITY, MAX_SKIN_DETAIL, EditParams, Emotion, Region
from emotionedit.engine import DEFAULT_SMOOTHING
from emotionedit.errors import UserError
from emotionedit.node import params as P
from emotionedit.render import Output

pytestmark = pytest.mark.usefixtures("node_built")  # the built bundle and the test host


@pytest.fixture(scope="module")
def descriptor():
    return describe()


def by_name(descriptor) -> dict[str, dict]:
    return {p["name"]: p["props"] for p in descriptor["params"]}


def test_plugin_identity_and_capabilities(descriptor):
    assert descriptor["identifier"] == "io.emotionedit.EmotionEdit"
    assert descriptor["version"] == [1, 0]
    assert descriptor["general_context_status"] == 0
    props = descriptor["props"]
    assert props["OfxImageEffectPropSupportedContexts"] == ["OfxImageEffectContextFilter",
                                                            "OfxImageEffectContextGeneral"]
    assert props["OfxImageEffectPropSupportedPixelDepths"] == ["OfxBitDepthByte", "OfxBitDepthShort",
                                                               "OfxBitDepthHalf", "OfxBitDepthFloat"]
    assert props["OfxImageEffectPluginPropHostFrameThreading"] == [0]
    assert props["OfxImageEffectPropCudaRenderSupported"] == ["true"]
    assert props["OfxImageEffectPropCudaStreamSupported"] == ["true"]
    assert props["OfxImageEffectPropSupportsTiles"] == [0]
    assert set(descriptor["clips"]) == {"Source", "Output"}
    for clip in descriptor["clips"].values():
        assert clip["OfxImageEffectPropSupportedComponents"] == ["OfxImageComponentRGBA", "OfxImageComponentRGB"]


def test_only_the_ofx_entry_points_are_exported():
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm (binutils) is not installed")
    binary = bundle_path() / "Contents/Linux-x86-64/EmotionEdit.ofx"
    out = subprocess.run([nm, "-D", "--defined-only", str(binary)], capture_output=True, text=True, check=True)
    exported = sorted(line.split()[-1] for line in out.stdout.splitlines() if line.strip())
    assert exported == ["OfxGetNumberOfPlugins", "OfxGetPlugin", "OfxSetHost"]
    # The plugin itself never links Python: it loads in hosts that run their own.
    ldd = shutil.which("ldd")
    if ldd:
        linked = subprocess.run([ldd, str(binary)], capture_output=True, text=True).stdout
        assert "libpython" not in linked


def test_choices_follow_the_engine_enums(descriptor):
    params = by_name(descriptor)
    assert params[P.EMOTION]["OfxParamPropChoiceOption"] == list(P.EMOTION_OPTIONS)
    assert [o.upper() for o in P.EMOTION_OPTIONS] == [e.name for e in Emotion]
    assert params[P.EMOTION2]["OfxParamPropChoiceOption"] == list(P.EMOTION2_OPTIONS)
    assert params[P.MODE]["OfxParamPropChoiceOption"] == list(P.MODE_OPTIONS)
    assert params[P.OUTPUT]["OfxParamPropChoiceOption"] == list(P.OUTPUT_OPTIONS)
    assert len(P.OUTPUT_OPTIONS) == len(Output)
    assert set(P.REGION_SWITCHES) == set(Region)
    for props in params.values():
        if "OfxParamPropChoiceOrder" in props:
            assert props["OfxParamPropChoiceOrder"] == list(range(len(props["OfxParamPropChoiceOption"])))


def test_every_value_the_engine_reads_is_a_parameter(descriptor):
    params = by_name(descriptor)
    names = {P.EMOTION, P.INTENSITY, P.EMOTION2, P.BLEND, P.LIP_PRESERVATION, P.SKIN_DETAIL, P.MODE, P.SMOOTHING,
             P.ANALYSIS_FILE, P.FRAME_OFFSET, P.FACE, P.OUTPUT, *P.REGION_SWITCHES.values()}
    assert names <= set(params)
    for name in names:
        assert params[name]["OfxParamPropScriptName"] == [name]


def test_defaults_and_ranges_match_the_command_line(descriptor):
    params = by_name(descriptor)
    args = build_parser().parse_args(["render", "in.mp4", "-o", "out.mp4"])
    cli = EditCurves(args).at(0)
    assert params[P.EMOTION]["OfxParamPropDefault"] == [int(cli.emotion)]
    assert params[P.INTENSITY]["OfxParamPropDefault"] == [cli.intensity]
    assert params[P.INTENSITY]["OfxParamPropMax"] == [MAX_INTENSITY]
    assert params[P.INTENSITY]["OfxParamPropDisplayMax"] == [1.0]
    assert params[P.LIP_PRESERVATION]["OfxParamPropDefault"] == [cli.lip_preservation]
    assert params[P.BLEND]["OfxParamPropDefault"] == [cli.blend]
    assert params[P.SMOOTHING]["OfxParamPropDefault"] == [DEFAULT_SMOOTHING]
    assert params[P.SKIN_DETAIL]["OfxParamPropDefault"] == [cli.skin_detail]
    assert params[P.SKIN_DETAIL]["OfxParamPropMax"] == [MAX_SKIN_DETAIL]
    # The sliders reach what the command line takes: smoothing up to 10 frames, plates numbered past 100000.
    assert params[P.SMOOTHING]["OfxParamPropMax"] == params[P.SMOOTHING]["OfxParamPropDisplayMax"] == [10.0]
    assert params[P.FRAME_OFFSET]["OfxParamPropDisplayMax"][0] >= 100000
    assert params[P.FRAME_OFFSET]["OfxParamPropDisplayMin"][0] <= -100000
    for name in (P.INTENSITY, P.BLEND, P.LIP_PRESERVATION, P.SKIN_DETAIL):
        assert params[name]["OfxParamPropAnimates"] == [1]
    assert params[P.REGION_SWITCHES[Region.BROWS]]["OfxParamPropParent"] == ["regions"]


def node_values(**changes) -> dict:
    values = {P.EMOTION: 1, P.INTENSITY: 1.0, P.EMOTION2: 0, P.BLEND: 0.0, P.LIP_PRESERVATION: 1.0, P.MODE: 0,
              P.SKIN_DETAIL: 1.0, P.SMOOTHING: DEFAULT_SMOOTHING, P.ANALYSIS_FILE: "", P.FRAME_OFFSET: 0,
              P.FACE: "largest", P.OUTPUT: 0, **{name: 1 for name in P.REGION_SWITCHES.values()}}
    values.update(changes)
    return values


def test_node_and_command_line_map_onto_the_same_edit():
    args = build_parser().parse_args(["render", "in.mp4", "-o", "out.mp4", "--emotion", "fearful", "--intensity",
                                      "0.7", "--emotion2", "neutral", "--blend", "0.25", "--lip-preservation",
                                      "0.4", "--mode", "replace", "--regions", "eyes,nose", "--skin-detail", "0.5"])
    cli: EditParams = EditCurves(args).at(0)
    node = P.NodeParams.from_values(node_values(
        **{P.EMOTION: int(Emotion.FEARFUL), P.INTENSITY: 0.7, P.EMOTION2: int(Emotion.NEUTRAL) + 1, P.BLEND: 0.25,
           P.LIP_PRESERVATION: 0.4, P.MODE: 1, "regionBrows": 0, "regionCheeks": 0, "regionMouth": 0,
           P.SKIN_DETAIL: 0.5}))
    assert node.edit == cli
    # A node built before Skin Detail existed sends no value for it: the engine's default.
    older = node_values()
    del older[P.SKIN_DETAIL]
    assert P.NodeParams.from_values(older).edit.skin_detail == EditParams().skin_detail


def test_out_of_range_values_are_user_errors():
    with pytest.raises(UserError, match="intensity"):
        P.NodeParams.from_values(node_values(**{P.INTENSITY: 2.5}))
    with pytest.raises(UserError, match="skin detail"):
        P.NodeParams.from_values(node_values(**{P.SKIN_DETAIL: -0.1}))
    with pytest.raises(UserError, match="newer EmotionEdit"):
        P.NodeParams.from_values(node_values(**{P.EMOTION: 99}))
    with pytest.raises(UserError, match="Face must be"):
        P.NodeParams.from_values(node_values(**{P.FACE: "left one"}))


def test_frame_numbers_from_host_time():
    params = P.NodeParams.from_values(node_values(**{P.FRAME_OFFSET: 1001}))
    assert params.frame_number(0.0) == 1001
    assert params.frame_number(11.9999) == 1013
