"""A shot's job as an Open Job Description template (``jobtemplate-2023-09``).

Open Job Description is the open job format AWS Deadline Cloud runs; ``openjd``
(PyPI ``openjd-cli``) checks a template and runs it locally. The template has
job parameters for the paths (absolute, as the workers see them: ``STRING``
parameters, since the specification allows a ``PATH`` parameter's default only
inside the template's folder), the frames and the chunk size, and three steps:

* ``Analyze``: one task, ``emotionedit analyze``;
* ``Render``: depends on ``Analyze``; its task parameter ``Frames`` is a
  ``CHUNK[INT]`` over ``{{Param.Frames}}`` (the ``TASK_CHUNKING`` extension), so
  each task gets a chunk such as ``1001-1010`` or ``1001-1019:2``, which
  ``render --frames`` reads as is;
* ``Verify`` (with ``--verify``): depends on ``Render``, ``emotionedit verify``.

Every action is cancelled by SIGTERM first (``NOTIFY_THEN_TERMINATE``), which
EmotionEdit handles like Ctrl-C, then killed after 30 s.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path

from ..io import check_outputs, staged
from ..io.output import WriteCheckFailed
from .jobs import Job, provenance

SPECIFICATION = "jobtemplate-2023-09"
#: Seconds between SIGTERM and SIGKILL when a task is cancelled.
GRACE_SECONDS = 30


def _action(args: list[str]) -> dict:
    return {"onRun": {"command": "{{Param.Executable}}", "args": args,
                      "cancelation": {"mode": "NOTIFY_THEN_TERMINATE", "notifyPeriodInSeconds": GRACE_SECONDS}}}


def template(job: Job) -> dict:
    """The Open Job Description template of ``job``, as a dict (YAML or JSON when written).

    The paths are ``STRING`` parameters holding absolute paths as the workers see them: the
    specification allows a ``PATH`` parameter's default only inside the template's own folder.
    """
    refer = dataclasses.replace(job, plate="{{Param.Plate}}", analysis="{{Param.Analysis}}",
                                output="{{Param.Output}}")
    parameters = [
        {"name": "Executable", "type": "STRING", "default": job.executable,
         "description": "The emotionedit command on the workers."},
        {"name": "Plate", "type": "STRING", "default": job.plate, "minLength": 1,
         "description": "The plate, a sequence pattern or a movie (an absolute path, as the workers see it)."},
        {"name": "Analysis", "type": "STRING", "default": job.analysis, "minLength": 1,
         "description": "The analysis file the Analyze step writes and every render reads."},
        {"name": "Output", "type": "STRING", "default": job.output, "minLength": 1,
         "description": "What the Render step writes."},
        {"name": "Frames", "type": "STRING", "default": job.frame_range.openjd(), "minLength": 1,
         "description": f"The frames to render, within {job.span} (the frames the Analyze step analyses)."},
        {"name": "ChunkSize", "type": "INT", "default": job.chunk, "minValue": 1,
         "description": "Frames per render task."},
    ]
    steps = [
        {"name": "Analyze", "script": {"actions": _action(refer.analyze_args())}},
        {"name": "Render", "dependencies": [{"dependsOn": "Analyze"}],
         "parameterSpace": {"taskParameterDefinitions": [
             {"name": "Frames", "type": "CHUNK[INT]", "range": "{{Param.Frames}}",
              "chunks": {"defaultTaskCount": "{{Param.ChunkSize}}", "rangeConstraint": "NONCONTIGUOUS"}}]},
         "script": {"actions": _action(refer.render_args("{{Task.Param.Frames}}"))}},
    ]
    if job.verify:
        steps.append({"name": "Verify", "dependencies": [{"dependsOn": "Render"}],
                      "script": {"actions": _action(refer.verify_args("{{Param.Frames}}"))}})
    return {"specificationVersion": SPECIFICATION, "extensions": ["TASK_CHUNKING"], "name": job.name,
            "description": provenance(), "parameterDefinitions": parameters, "steps": steps}


def _text(document: dict, path: Path) -> str:
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:  # JSON is YAML too
            return json.dumps(document, indent=2) + "\n"
        return yaml.safe_dump(document, sort_keys=False, width=120)
    return json.dumps(document, indent=2) + "\n"


def check_template(path: Path) -> None:
    """Read the template file ``path`` back; with ``openjd-model`` installed, validate it as ``openjd check`` does.

    Raises :class:`WriteCheckFailed` saying what is wrong.
    """
    text = Path(path).read_text()
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            document = yaml.safe_load(text)
        else:
            document = json.loads(text)
    except Exception as exc:  # any parse failure: not written whole
        raise WriteCheckFailed(f"it does not read back: {exc}") from exc
    try:
        from openjd.model import DocumentType, decode_job_template, document_string_to_object
    except ImportError:  # pragma: no cover - the farm extra is not installed: the structure was read back
        return
    try:
        kind = DocumentType.YAML if path.suffix.lower() in (".yaml", ".yml") else DocumentType.JSON
        decode_job_template(template=document_string_to_object(document=text, document_type=kind),
                            supported_extensions=document.get("extensions", []))
    except Exception as exc:  # openjd's DecodeValidationError and friends
        raise WriteCheckFailed(f"Open Job Description refuses it: {exc}") from exc


def write_template(job: Job, output: Path, *, overwrite: bool, protect: Iterable[str | Path]) -> Path:
    """Write ``job``'s template to ``output`` (``.yaml``/``.yml`` as YAML, else JSON), checked before it is named."""
    output = Path(output)
    check_outputs([output], overwrite=overwrite, protect=protect)
    with staged((output, check_template), exclusive=not overwrite) as (temporary,):
        temporary.write_text(_text(template(job), output))
    return output
