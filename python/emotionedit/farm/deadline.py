"""A shot's job as Deadline 10 submission files for the ``CommandLine`` plugin.

Deadline 10 (Thinkbox) submits a job as two ``key=value`` files, its job info
and its plugin info, given to ``deadlinecommand``. The job folder holds one
pair per step and ``submit.sh``, which submits them in order with
``-SubmitMultipleJobs -dependent`` (each job waits for the one before):

* ``1_analyze.job`` / ``.plugin``: one task, ``emotionedit analyze``;
* ``2_render.job`` / ``.plugin``: ``Frames`` is the frames (``1001-1100x2``,
  Deadline's syntax is ``--frames``' own), ``ChunkSize`` the chunk; the
  plugin's ``Arguments`` take ``--frames <STARTFRAME>-<ENDFRAME>``, which
  Deadline replaces with each task's first and last frame. Deadline tells a
  task only those two frames, so a stepped range passes its step
  (``<STARTFRAME>-<ENDFRAME>x2``) and frames given as a list of several parts
  are sent one frame a task (``ChunkSize=1``: a chunk could span a gap);
* ``3_verify.job`` / ``.plugin`` (with ``--verify``): ``emotionedit verify``.

Not checked here: submission (no Deadline repository here); the tests parse
the files and check every key the CommandLine plugin and the job need.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path

from ..errors import UserError
from ..io import check_outputs, staged
from ..io.output import WriteCheckFailed
from .jobs import JOB_VERSION, Job, provenance


def _quoted(args: list[str]) -> str:
    """Deadline's argument string: arguments with spaces or quotes wrapped in ``<QUOTE>`` tokens."""
    out = []
    for arg in args:
        if arg and not any(c.isspace() or c in "\"'" for c in arg):
            out.append(arg)
        else:
            out.append("<QUOTE>" + arg.replace('"', "<QUOTE>") + "<QUOTE>")
    return " ".join(out)


def chunking(job: Job) -> tuple[str, int]:
    """The render task's ``--frames`` argument and the chunk size Deadline gets."""
    spans = job.frame_range.spans
    if len(spans) == 1:
        step = spans[0].step
        return "<STARTFRAME>-<ENDFRAME>" + (f"x{step}" if step != 1 else ""), job.chunk
    return "<STARTFRAME>", 1


def files(job: Job) -> dict[str, dict[str, str]]:
    """Each file of the job folder (name -> ordered keys), the submit script aside."""
    frames_arg, chunk = chunking(job)
    steps = [("1_analyze", "analyze", job.analyze_args(), str(job.frames[0]), 1),
             ("2_render", "render", job.render_args(frames_arg), str(job.frame_range), chunk)]
    if job.verify:
        steps.append(("3_verify", "verify", job.verify_args(), str(job.frames[0]), 1))
    out: dict[str, dict[str, str]] = {}
    for stem, step, args, frames, size in steps:
        out[f"{stem}.job"] = {
            "Plugin": "CommandLine",
            "Name": f"{job.name} {step}",
            "BatchName": job.name,
            "Comment": provenance(),
            "Frames": frames,
            "ChunkSize": str(size),
            "Priority": "50",
            "MachineLimit": "0",
            "OnJobComplete": "Nothing",
            "ExtraInfoKeyValue0": f"EmotionEditJobVersion={JOB_VERSION}",
            "ExtraInfoKeyValue1": f"EmotionEditStep={step}",
        }
        out[f"{stem}.plugin"] = {"Executable": job.executable, "Arguments": _quoted(args), "StartupDirectory": ""}
    return out


def parse(path: Path) -> dict[str, str]:
    """A ``key=value`` submission file as a dict; :class:`WriteCheckFailed` for a line that is not one."""
    values = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key:
            raise WriteCheckFailed(f"line {number} is not key=value: {line!r}")
        values[key] = value
    return values


def _submit_script(names: list[str]) -> str:
    pairs = " ".join(f"-job {shlex.quote(n + '.job')} {shlex.quote(n + '.plugin')}" for n in names)
    return ("#!/bin/sh\n# Submit this EmotionEdit job to Deadline 10: each job waits for the one before it.\n"
            f'cd "$(dirname "$0")" && exec deadlinecommand -SubmitMultipleJobs -dependent {pairs}\n')


def write_job_files(job: Job, output: Path, *, overwrite: bool, protect: Iterable[str | Path]) -> Path:
    """Write the job folder ``output`` (created; its files replaced only with ``overwrite``)."""
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise UserError(f"{output} is a file; a Deadline job is a folder of submission files: name a folder")
    contents = {name: "".join(f"{k}={v}\n" for k, v in keys.items()) for name, keys in files(job).items()}
    stems = sorted({name.rsplit(".", 1)[0] for name in contents})
    contents["submit.sh"] = _submit_script(stems)
    targets = [output / name for name in contents]
    check_outputs(targets, overwrite=overwrite, protect=protect)

    def verify(path: Path) -> None:
        if path.suffix in (".job", ".plugin"):
            parse(path)

    with staged(*[(target, verify) for target in targets], exclusive=not overwrite) as temporaries:
        for temporary, text in zip(temporaries, contents.values(), strict=True):
            temporary.write_text(text)
    (output / "submit.sh").chmod(0o755)
    return output
