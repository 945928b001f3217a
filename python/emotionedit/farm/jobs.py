"""``emotionedit job``: a shot's analyze, chunked render and check steps as a job for a farm engine.

One :class:`Job` describes the work; :mod:`.openjd`, :mod:`.opencue` and
:mod:`.deadline` write it in their engine's format:

* an **analyze** step: ``emotionedit analyze`` of the frames' span into the
  analysis file (``--overwrite``, so a retried step writes it again, whole);
* a **render** step depending on it, in chunks of ``--chunk`` frames: each task
  runs ``emotionedit render --frames <its chunk> --resume``, so a retried or
  re-queued task keeps the frames already written whole and renders the rest;
* with ``--verify``, a **check** step depending on the render:
  ``emotionedit verify`` of every frame, which fails the job unless the output
  is complete.

Frames are written in the one frame-range syntax (:mod:`emotionedit.io.ranges`):
each engine hands a task its chunk in its own words (Open Job Description
``1001-1013:2``, OpenCue ``1001-1013x2``, Deadline a first and last frame), and
``--frames`` reads every one of them as the same frames. Paths are made
absolute; the plate is opened here, so its frames are known and checked before
the job exists.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..errors import UserError
from ..io import FrameRange, check_outputs, frames_text, is_movie_path, open_frames, output_files, parse_frames
from ..render import Output

#: The version of the job files `emotionedit job` writes (recorded in each; bumped when their layout changes).
JOB_VERSION = 1
FORMATS = ("openjd", "opencue", "deadline")


@dataclass(frozen=True)
class Job:
    """A shot's farm job: what each step runs.

    plate, analysis, output: absolute paths (the output a sequence pattern or a movie).
    frames: the frames to render, as found in the plate (ascending); span: the frames analysed
    (the plate's frames from the first to the last of ``frames``). chunk: frames per render task.
    render_options: the edit's options, given to every render task. analyze_options: ``--face``.
    """

    name: str
    executable: str
    plate: str
    analysis: str
    output: str
    frames: tuple[int, ...]
    span: str
    chunk: int
    verify: bool
    render_options: tuple[str, ...]
    analyze_options: tuple[str, ...]
    picture_check: bool = True

    @property
    def frame_range(self) -> FrameRange:
        """The frames to render as the shortest frame range."""
        return frames_text(self.frames)

    def analyze_args(self) -> list[str]:
        """Arguments (after the executable) of the analyze step."""
        return ["analyze", self.plate, "--frames", self.span, "-o", self.analysis, "--overwrite",
                *self.analyze_options]

    def render_args(self, frames: str) -> list[str]:
        """Arguments of a render task whose chunk is ``frames`` (an engine's token or a frame range)."""
        return ["render", self.plate, "--analysis", self.analysis, "-o", self.output, "--frames", frames, "--resume",
                *self.render_options]

    def verify_args(self, frames: str | None = None) -> list[str]:
        """Arguments of the check step."""
        return ["verify", self.output, "--analysis", self.analysis, "--frames", frames or str(self.frame_range),
                *(() if self.picture_check else ("--no-picture-check",))]

    def command(self, args: list[str]) -> str:
        """A shell command line of the executable and ``args``, quoted where needed."""
        return shlex.join([self.executable, *args])


def provenance() -> str:
    """What each job file records about its maker: the job file version and EmotionEdit's."""
    return f"written by `emotionedit job` (job file version {JOB_VERSION}, EmotionEdit {__version__})"


def _job_name(text: str) -> str:
    """Letters, digits, ``.``, ``_`` and ``-`` only (what every engine accepts in a name)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "emotionedit"


def _edit_options(args, edit_actions: list[argparse.Action]) -> tuple[list[str], bool]:
    """The render options of ``args``, spelt out in full (a farm job is a record of what was rendered).

    ``edit_actions``: the edit's options as the command line defines them (every one is passed on, so an
    option added to `render` reaches the job's tasks too). Returns the options and whether the render
    writes pictures of the shot (``--output-mode edited``).
    """
    options = []
    for action in edit_actions:
        value = getattr(args, action.dest, None)
        flag = next((o for o in action.option_strings if o.startswith("--")), None)
        if flag is None or value is None or value is False:
            continue
        options += [flag] if value is True else [flag, repr(value) if isinstance(value, float) else str(value)]
    options += ["--output-mode", args.output_mode]
    if args.holdout:
        options += ["--holdout", str(Path(args.holdout).absolute())]
    if args.ignore_plate_mismatch:
        options.append("--ignore-plate-mismatch")
    if args.device != "cpu":  # checked on the render nodes, which have the GPUs
        options += ["--device", args.device]
    return options, args.output_mode == "edited"


def build_job(args, validate_edit: Callable, edit_actions: list[argparse.Action]) -> Job:
    """The :class:`Job` of the ``emotionedit job`` arguments ``args``; every check a render would make first.

    ``validate_edit``: the command line's parser of the edit options (raises :class:`UserError`);
    ``edit_actions``: those options' definitions.
    """
    if args.chunk < 1:
        raise UserError(f"--chunk {args.chunk}: a render task needs at least 1 frame; e.g. --chunk 10")
    validate_edit(args)
    with open_frames(args.plate, parse_frames(args.frames) if args.frames else None) as reader:
        frames = tuple(reader.frame_numbers)
        if reader.spec.channels not in (3, 4):
            raise UserError(f"{args.plate} has {reader.spec.channels} channel(s); EmotionEdit edits RGB or RGBA "
                            "plates")
    plate, analysis = Path(args.plate).absolute(), Path(args.analysis).absolute()
    render_output = Path(args.render_output).absolute()
    if is_movie_path(render_output) and args.chunk < len(frames):
        raise UserError(f"{render_output} is a movie, which one task writes whole: give --chunk {len(frames)} (the "
                        "frame count), or render an image sequence such as shot_edit.####.exr to spread the frames "
                        "over tasks")
    protect = [plate, analysis] + ([Path(args.holdout)] if args.holdout else [])
    # The render's frames: not inputs, and none there yet (the tasks would keep them: --resume).
    existing = [p for p in sorted(set(output_files(render_output, frames).values())) if os.path.lexists(p)]
    check_outputs(sorted(set(output_files(render_output, frames).values())), overwrite=True, protect=protect,
                  frame_numbers=frames)
    if existing and not args.keep_existing:
        raise UserError(
            f"{len(existing)} frames of {render_output} already exist (e.g. {existing[0]}); the job's render tasks "
            f"resume, so they would be kept: pass --keep-existing to keep the whole ones and render the rest, or "
            f"remove them (or choose another --render-output) to render every frame"
        )
    check_outputs([analysis], overwrite=args.overwrite, protect=[plate])
    options, pictures = _edit_options(args, edit_actions)
    name = args.name or f"emotionedit_{Path(str(plate).replace('#', '')).stem.strip('._')}_{args.emotion}"
    return Job(
        name=_job_name(name), executable=args.executable, plate=str(plate), analysis=str(analysis),
        output=str(render_output), frames=frames, span=f"{frames[0]}-{frames[-1]}", chunk=args.chunk,
        verify=args.verify, render_options=tuple(options),
        analyze_options=("--face", args.face) if args.face != "largest" else (), picture_check=pictures,
    )


def cmd_job(args, validate_edit: Callable, edit_actions: list[argparse.Action]) -> int:
    job = build_job(args, validate_edit, edit_actions)
    output = Path(args.output)
    if args.format == "openjd":
        from .openjd import write_template as write
    elif args.format == "opencue":
        from .opencue import write_spec as write
    else:
        from .deadline import write_job_files as write
    extra = {"show": args.show, "shot": args.shot} if args.format == "opencue" else {}
    written = write(job, output, overwrite=args.overwrite, protect=[job.plate, job.analysis], **extra)
    tasks = -(-len(job.frames) // job.chunk)
    print(f"{args.format} job written to {written}: analyze {job.span}, render {len(job.frames)} frames "
          f"({job.frame_range}) in {tasks} tasks of up to {job.chunk}" + (", then verify" if job.verify else ""))
    return 0


def add_job_command(sub, add_edit_options: Callable, validate_edit: Callable) -> None:
    """Register ``emotionedit job`` on the command line's subparsers ``sub``.

    ``add_edit_options``: adds the render's edit options to a parser; ``validate_edit``: parses them
    (raising :class:`UserError`), so a job is refused when its render would be.
    """
    p = sub.add_parser(
        "job", help="write a farm job (Open Job Description, OpenCue or Deadline 10): analyze, render in chunks, "
        "verify",
        description="Write a job for a farm engine: an analyze step, a render step in chunks of --chunk frames that "
        "depends on it (each task resumes: a retried task keeps the frames already written whole), and with "
        "--verify a check step. See docs/user-guide.md, 'Batch use on a farm'.",
    )
    p.add_argument("--format", required=True, choices=FORMATS,
                   help="openjd: an Open Job Description template (AWS Deadline Cloud, `openjd run`); opencue: an "
                   "OpenCue job spec (XML, for cuerun/pycuerun or the API's launchSpec); deadline: a folder of "
                   "Deadline 10 job and plugin info files (CommandLine plugin) and submit.sh")
    p.add_argument("plate", help="the plate: shot.####.exr, shot.%%04d.png, or a movie (as the render nodes see it)")
    p.add_argument("--analysis", required=True, help="the analysis file the analyze step writes and the renders read")
    p.add_argument("-o", "--output", required=True,
                   help="the job file to write (openjd: .yaml or .json; opencue: .xml; deadline: a folder)")
    p.add_argument("--render-output", required=True, metavar="OUTPUT",
                   help="what the render step writes: shot_edit.####.exr, or a movie (one task then: --chunk at "
                   "least the frame count)")
    p.add_argument("--chunk", type=int, default=10, help="frames per render task (default 10)")
    p.add_argument("--frames", help="frames: 1001-1100, 1001-1100x2 or 1001,1005,1010-1020 (default: all)")
    p.add_argument("--verify", action="store_true", help="add a check step (`emotionedit verify`) after the render")
    p.add_argument("--name", help="the job's name (default: emotionedit_<plate>_<emotion>)")
    p.add_argument("--executable", default="emotionedit",
                   help="the emotionedit command on the render nodes (default: emotionedit, found on their PATH)")
    p.add_argument("--show", default=os.environ.get("SHOW", "testing"), help="opencue: the show (default $SHOW or "
                   "testing)")
    p.add_argument("--shot", default=os.environ.get("SHOT", "default"), help="opencue: the shot (default $SHOT or "
                   "default)")
    p.add_argument("--face", default="largest", help="which face the analyze step follows (see analyze --face)")
    p.add_argument("--output-mode", default="edited", choices=[o.name.lower() for o in Output],
                   help="what the render writes (see render --output-mode)")
    p.add_argument("--holdout", metavar="PLATE", help="a holdout matte for every render task (see render --holdout)")
    p.add_argument("--ignore-plate-mismatch", action="store_true", help="see render --ignore-plate-mismatch")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"],
                   help="where the render tasks resample the face (see render --device; a GPU on the render "
                   "nodes, not on this machine)")
    p.add_argument("--keep-existing", action="store_true",
                   help="frames of --render-output already there are kept when whole (the tasks resume)")
    p.add_argument("--overwrite", action="store_true", help="replace the job file and an existing analysis file")
    add_edit_options(p)
    probe = argparse.ArgumentParser(add_help=False)
    add_edit_options(probe)
    edit_actions = list(probe._actions)  # the edit's options, each passed on to the render tasks
    p.set_defaults(run=lambda args: cmd_job(args, validate_edit, edit_actions))

