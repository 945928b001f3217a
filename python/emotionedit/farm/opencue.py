"""A shot's job as an OpenCue job spec (the XML Cuebot takes, ``cjsl-1.15``).

OpenCue's own submission library, ``opencue-pyoutline``, cannot be imported
beside the engine: it needs OpenCue's gRPC client, which needs protobuf 5 or
later, and MediaPipe needs protobuf 4. So the spec is written here with the
standard library, element for element as pyoutline's ``serialize_simple``
writes it for ``outline.modules.shell.Shell`` layers (the tests build the same
job with pyoutline and compare): a job of

* layer ``analyze``: one frame, ``emotionedit analyze``;
* layer ``render``: the frames as an OpenCue frame set (``1001-1100x2``, the
  same syntax as ``--frames``), chunked by ``--chunk``; its command takes
  ``--frames #FRAMESPEC#``, which Cuebot replaces with each task's frames;
  it depends on ``analyze`` (``LAYER_ON_LAYER``: every render task waits for
  the analysis);
* layer ``verify`` (with ``--verify``): one frame, depends on ``render``.

Submit it with ``cuerun``/``pycuerun`` or ``opencue.api.launchSpec(open(FILE).read())``.
Not checked here: submission (no Cuebot here); RQD cancels a frame with SIGTERM
(then SIGKILL), which EmotionEdit handles like Ctrl-C.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterable
from pathlib import Path
from xml.dom import minidom
from xml.etree import ElementTree

from ..io import check_outputs, staged
from ..io.output import WriteCheckFailed
from .jobs import JOB_VERSION, Job

SPEC_VERSION = "1.15"
DOCTYPE = (f'<!DOCTYPE spec PUBLIC "SPI Cue  Specification Language" '
           f'"http://localhost:8080/spcue/dtd/cjsl-{SPEC_VERSION}.dtd">')


def _text(parent: ElementTree.Element, tag: str, text: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag)
    element.text = text
    return element


def _token(text: str) -> str:
    """An XML NMTOKEN (what the spec allows in job and layer names)."""
    return re.sub(r"[^A-Za-z0-9._:-]+", "_", text) or "emotionedit"


def _layer(layers: ElementTree.Element, name: str, command: str, frames: str, chunk: int) -> None:
    layer = ElementTree.SubElement(layers, "layer", {"name": name, "type": "Render"})
    _text(layer, "cmd", command)
    _text(layer, "range", frames)
    _text(layer, "chunk", str(chunk))
    ElementTree.SubElement(layer, "env")
    services = ElementTree.SubElement(layer, "services")
    _text(services, "service", "shell")
    ElementTree.SubElement(layer, "outputs")


def spec(job: Job, show: str, shot: str, user: str | None = None) -> str:
    """The OpenCue job spec of ``job`` (XML text with its DOCTYPE)."""
    user = user or getpass.getuser()
    root = ElementTree.Element("spec")
    _text(root, "facility", "local")
    _text(root, "show", show)
    _text(root, "shot", shot)
    _text(root, "user", user)
    _text(root, "uid", str(os.getuid()))
    name = _token(job.name)
    element = ElementTree.SubElement(root, "job", {"name": name})
    _text(element, "paused", "False")
    _text(element, "priority", "1")
    _text(element, "maxretries", "2")
    _text(element, "autoeat", "False")
    env = ElementTree.SubElement(element, "env")
    _text(env, "key", str(JOB_VERSION)).set("name", "EMOTIONEDIT_JOB_VERSION")
    layers = ElementTree.SubElement(element, "layers")
    _layer(layers, "analyze", job.command(job.analyze_args()), "1", 1)
    _layer(layers, "render", job.command(job.render_args("#FRAMESPEC#")), str(job.frame_range), job.chunk)
    if job.verify:
        _layer(layers, "verify", job.command(job.verify_args()), "1", 1)
    depends = ElementTree.SubElement(root, "depends")
    pairs = [("render", "analyze")] + ([("verify", "render")] if job.verify else [])
    for waiting, on in pairs:
        depend = ElementTree.SubElement(depends, "depend", {"type": "LAYER_ON_LAYER", "anyframe": "False"})
        for tag, text in (("depjob", name), ("deplayer", waiting), ("onjob", name), ("onlayer", on)):
            _text(depend, tag, text)
    body = ElementTree.tostring(root, encoding="unicode")
    pretty = minidom.parseString(body).toprettyxml(indent="  ")
    declaration, rest = pretty.split("\n", 1)
    return f"{declaration}\n{DOCTYPE}\n{rest}"


def check_spec(path: Path) -> None:
    """Read a written spec back: XML, with a job and its layers. Raises :class:`WriteCheckFailed`."""
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as exc:
        raise WriteCheckFailed(f"it is not whole XML: {exc}") from exc
    if root.tag != "spec" or root.find("job/layers/layer") is None:
        raise WriteCheckFailed("it holds no job with layers")


def write_spec(job: Job, output: Path, *, overwrite: bool, protect: Iterable[str | Path], show: str = "testing",
               shot: str = "default") -> Path:
    """Write ``job``'s OpenCue spec to ``output``, checked before it gets its name."""
    output = Path(output)
    check_outputs([output], overwrite=overwrite, protect=protect)
    with staged((output, check_spec), exclusive=not overwrite) as (temporary,):
        temporary.write_text(spec(job, show, shot))
    return output
