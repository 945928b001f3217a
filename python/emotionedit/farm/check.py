"""``emotionedit verify``: is a render's output complete, whole and of the analysed shot?

The check step of a farm job, and what a supervisor runs before delivery. Given
the output (a sequence pattern, one image or a movie) and the shot's analysis
file, every frame the analysis covers (or those of ``--frames``) is looked at:

* **missing**: no file for the frame (a movie: fewer frames than the shot);
* **damaged**: the file does not decode whole (cut short, damaged pixels, no
  PNG/JPEG closing bytes), every pixel is decoded;
* **not the shot's size**: another width or height than the analysed plate;
* **not the shot's frame numbers**: files of the pattern numbered outside the
  analysed frames (a renumbered or offset render, another shot's frames; looked
  for when no ``--frames`` narrows the check);
* **not the shot's pictures**: where the analysis holds the plate's fingerprint
  (:mod:`emotionedit.fingerprint`), a frame whose picture is not its analysed
  frame's (another shot, or frames shuffled far). An edit leaves the picture
  the plate's (an edit at intensity 2 scores well under the limit), a matte or
  occlusion render does not: check those with ``--no-picture-check``.

Temporaries that killed runs left (``render --resume`` removes them) are listed.
The exit status is 0 only when every frame is present and whole and nothing
fails to match (:data:`EXIT_INCOMPLETE` otherwise; 2 for a usage error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, UserError
from ..io import frames_text, output_files, parse_frames
from ..io.images import image_format, probe_image, read_image
from ..io.movie import MovieReader, is_movie_path
from ..io.output import stale_temporaries
from ..io.sequence import list_frames, parse_pattern
from .resume import frame_problem, movie_problem, temporaries_of

#: Exit status of `verify` when the output is not complete (missing, damaged or mismatched frames).
EXIT_INCOMPLETE = 1


@dataclass
class Report:
    """What :func:`check_output` found; ``complete`` when nothing is wrong."""

    output: str
    expected: list[int]
    width: int
    height: int
    whole: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    damaged: list[tuple[int, str]] = field(default_factory=list)
    wrong_size: list[tuple[int, str]] = field(default_factory=list)
    foreign_numbers: list[int] = field(default_factory=list)
    wrong_picture: list[tuple[int, str]] = field(default_factory=list)
    temporaries: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.missing or self.damaged or self.wrong_size or self.foreign_numbers or self.wrong_picture)

    def lines(self) -> list[str]:
        """The report as printed: one line per kind of problem, then the verdict."""
        out = [f"{self.output}: {len(self.expected)} frames expected ({_frames(self.expected)} of the analysed "
               f"shot, {self.width}x{self.height})",
               f"  whole: {len(self.whole)} frames" + (f" ({_frames(self.whole)})" if self.whole else "")]
        if self.missing:
            out.append(f"  missing: {len(self.missing)} frames: {_frames(self.missing)}")
        for title, rows in (("damaged (do not decode whole)", self.damaged),
                            ("not the shot's size", self.wrong_size),
                            ("not the shot's pictures", self.wrong_picture)):
            if rows:
                out.append(f"  {title}: {len(rows)} frames: {_frames([n for n, _ in rows])}")
                out.extend(f"    frame {n}: {why}" for n, why in rows[:5])
                if len(rows) > 5:
                    out.append(f"    ... and {len(rows) - 5} more")
        if self.foreign_numbers:
            out.append(f"  not the shot's frame numbers: {len(self.foreign_numbers)} files numbered "
                       f"{_frames(self.foreign_numbers)}, which the analysis does not have")
        if self.temporaries:
            out.append(f"  {len(self.temporaries)} temporary files of killed runs (render --resume removes them): "
                       + ", ".join(p.name for p in self.temporaries[:3]) + (" ..." if len(self.temporaries) > 3
                                                                             else ""))
        out.extend(f"  note: {note}" for note in self.notes)
        if self.complete:
            out.append("complete: every frame is present, whole and of the shot")
            return out
        todo = []
        if self.missing or self.damaged:
            todo.append("the same render command with --resume renders only the missing and damaged frames")
        if self.wrong_size or self.wrong_picture or self.foreign_numbers:
            todo.append("frames of another size, numbering or picture are not this shot's render: check the output "
                        "and analysis named are the shot's, then render them again with --overwrite")
        out.append("INCOMPLETE: " + "; ".join(todo))
        return out


def _frames(numbers: list[int]) -> str:
    return str(frames_text(numbers)) if numbers else "none"


def _fingerprint(analysis):
    """The analysis's :class:`~emotionedit.fingerprint.Fingerprint`, or None when it has none."""
    thumbnails = getattr(analysis, "thumbnails", None)
    if thumbnails is None:
        return None
    try:
        from ..fingerprint import Fingerprint
    except ImportError:  # pragma: no cover - an EmotionEdit without plate fingerprints
        return None
    return Fingerprint(thumbnails, list(analysis.plate.frame_numbers))


def _picture_problem(fingerprint, analysis, number: int, pixels) -> str | None:
    match = fingerprint.match(pixels, analysis.index_of(number), pixels.shape[:2])
    if match.ok:
        return None
    if match.closest is not None:
        return f"its picture is analysed frame {match.closest}'s, not frame {number}'s"
    return f"its picture is not analysed frame {number}'s (distance {match.distance:.3f})"


def check_output(output: str | Path, analysis, frames: str | None = None, pictures: bool = True) -> Report:
    """Check the output ``output`` against ``analysis`` (an :class:`~emotionedit.analysis.Analysis`).

    ``frames``: a frame range (:mod:`emotionedit.io.ranges`) of the analysed
    frames to check (default: all). ``pictures``: compare each frame's picture
    with the analysis's fingerprint where it has one. Returns the
    :class:`Report`; raises :class:`UserError` for an output name that is not
    an image or movie, or frames the analysis does not have.
    """
    output = Path(output)
    plate = analysis.plate
    analysed = list(plate.frame_numbers)
    expected = parse_frames(frames).select(analysed, f"the analysis (of {plate.path})") if frames else analysed
    report = Report(str(output), expected, plate.width, plate.height)
    fingerprint = _fingerprint(analysis) if pictures else None
    if pictures and fingerprint is None:
        report.notes.append("the analysis has no fingerprint of the plate (an older analysis file): the frames' "
                            "pictures were not compared with the shot's")
    report.temporaries = stale_temporaries(output.parent, temporaries_of(output))
    if is_movie_path(output):
        _check_movie(output, report, analysis, fingerprint)
        return report
    pattern = parse_pattern(output)
    image_format(output)
    if pattern is not None and not frames:  # with --frames, only those frames are looked at
        try:
            present = list_frames(pattern)
        except InputError:
            present = []
        known = set(analysed)
        report.foreign_numbers = [n for n in present if n not in known]
    for number, path in output_files(output, expected).items():
        if not path.exists():
            report.missing.append(number)
            continue
        try:
            header = probe_image(path)
        except UserError as exc:
            report.damaged.append((number, str(exc)))
            continue
        if (header.width, header.height) != (plate.width, plate.height):
            report.wrong_size.append((number, f"{header.width}x{header.height}, the shot is "
                                              f"{plate.width}x{plate.height}"))
            continue
        problem = frame_problem(path, plate.width, plate.height)
        if problem is not None:
            report.damaged.append((number, problem))
            continue
        if fingerprint is not None:
            problem = _picture_problem(fingerprint, analysis, number, read_image(path)[0])
            if problem is not None:
                report.wrong_picture.append((number, problem))
                continue
        report.whole.append(number)
    return report


def _check_movie(output: Path, report: Report, analysis, fingerprint) -> None:
    """A movie holds the expected frames in order, as its frames 0, 1, 2, ..."""
    expected = report.expected
    if not output.exists():
        report.missing = list(expected)
        return
    problem = movie_problem(output, report.width, report.height, len(expected), analysis.plate.fps or None)
    if problem is not None:
        report.damaged.append((expected[0], f"{output.name}: {problem}"))
        return
    if fingerprint is None:
        report.whole = list(expected)
        return
    with MovieReader(output) as movie:
        for (_, pixels), number in zip(movie, expected, strict=True):
            problem = _picture_problem(fingerprint, analysis, number, pixels)
            if problem is None:
                report.whole.append(number)
            else:
                report.wrong_picture.append((number, problem))


def add_verify_command(sub, read_analysis: Callable) -> None:
    """Register ``emotionedit verify`` on the command line's subparsers ``sub``.

    ``read_analysis``: the command line's loader of analysis files (path -> Analysis, with its messages).
    """

    def cmd_verify(args) -> int:
        report = check_output(args.output, read_analysis(args.analysis), args.frames,
                              pictures=not args.no_picture_check)
        for line in report.lines():
            print(line)
        return 0 if report.complete else EXIT_INCOMPLETE

    p = sub.add_parser(
        "verify", help="check that a render's output is complete, whole and of the analysed shot (exit 0 only then)",
        description="Check every frame of a render's output against the shot's analysis: missing frames, frames "
        "that do not decode whole, frames of another size, files numbered outside the shot, and (where the "
        "analysis holds the plate's fingerprint) frames whose picture is not the shot's. Exit status 0 only when "
        f"the output is complete, {EXIT_INCOMPLETE} when it is not, 2 for a usage error.")
    p.add_argument("output", help="the output to check: out.####.exr, out.%%04d.png, one image, or a movie")
    p.add_argument("--analysis", required=True, help="the shot's analysis file (from `emotionedit analyze`)")
    p.add_argument("--frames", help="frames to check, e.g. 1001-1100, 1001-1100x2 or 1001,1005 (default: every "
                   "analysed frame)")
    p.add_argument("--no-picture-check", action="store_true",
                   help="do not compare the frames' pictures with the shot's (for --output-mode matte, landmarks "
                   "or occlusion renders, which are not pictures of the shot)")
    p.set_defaults(run=cmd_verify)
