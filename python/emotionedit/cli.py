"""The ``emotionedit`` command line: analyze, render, preview, eval, demo.

User errors (bad input, missing files, a plate without a face, a full disk)
print one clear message and exit with status 2; a traceback means a bug in
EmotionEdit. Every file a command writes passes the one output guard
(:func:`emotionedit.io.check_outputs`) before any work, and is read back before
it appears under its name (:func:`emotionedit.io.staged`).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import __version__
from .analysis import UNCHECKED, UNSTEADY, Analysis, PlateInfo
from .analysis import load as load_analysis
from .analysis import save as save_analysis
from .edit import MAX_INTENSITY, MAX_SKIN_DETAIL, MODES, EditParams, Emotion, Region
from .engine import DEFAULT_SMOOTHING, ShotEditor, analyze, resting_warning, shot_detail_depth
from .errors import UserError
from .farm.cancel import EXIT_TERMINATED, Terminated, terminate_like_interrupt
from .farm.check import add_verify_command
from .farm.jobs import add_job_command
from .farm.resume import reading, resume_render
from .fit.shot import NEUTRAL_MATCH_WARNING
from .io import (
    FrameReader,
    WriteCheckFailed,
    check_outputs,
    frames_text,
    open_frames,
    open_writer,
    output_files,
    parse_frames,
    staged,
    verify_image,
)
from .keyframes import Curve, parse_curve
from .prefetch import prefetch
from .preview import contact_sheet, write_png
from .render import Output
from .render.occlusion import holdout_matte
from .track import FaceSelection, TrackerOptions

EMOTIONS = ", ".join(e.name.lower() for e in Emotion)
#: The largest --smoothing (frames), the node's Smoothing range: a wider Gaussian only flattens the shot.
MAX_SMOOTHING = 10.0


def _smoothing(text: str) -> float:
    """argparse type of ``--smoothing``: a finite number of frames in [0, MAX_SMOOTHING]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of frames; e.g. 1.5") from None
    if not (math.isfinite(value) and 0.0 <= value <= MAX_SMOOTHING):
        raise argparse.ArgumentTypeError(
            f"{text!r} is outside 0..{MAX_SMOOTHING:g} frames (the Gaussian sigma of the temporal smoothing; "
            f"default {DEFAULT_SMOOTHING:g}); give a value in that range"
        )
    return value


def _read_analysis(path: str | Path) -> Analysis:
    """The analysis file ``path``, with a message (not a traceback) for an empty or cut-short file."""
    file = Path(path)
    if file.is_file() and file.stat().st_size == 0:
        raise UserError(f"analysis file {file} is empty (0 bytes; a write that never finished?); "
                        "run `emotionedit analyze` again to recreate it")
    try:
        return load_analysis(file)
    except EOFError as exc:
        raise UserError(f"analysis file {file} ends early ({exc}); run `emotionedit analyze` again "
                        "to recreate it") from None


def _verify_analysis(path: Path) -> None:
    """Read a freshly written analysis file back (the output check of `analyze`)."""
    try:
        load_analysis(path)
    except Exception as exc:  # any failure to read it back means it was not written whole
        raise WriteCheckFailed(f"it does not load: {exc}") from exc


def _verify_json(path: Path) -> None:
    try:
        json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise WriteCheckFailed(f"it is not whole JSON: {exc}") from exc




def _progress(total: int, what: str) -> tqdm:
    return tqdm(total=total, desc=what, unit="frame", file=sys.stderr, dynamic_ncols=True, leave=True)


def _open_plate(path: str, frames: str | None) -> FrameReader:
    frame_range = parse_frames(frames) if frames else None
    reader = open_frames(path, frame_range)
    numbers = list(reader.frame_numbers)
    if frame_range is None and len(numbers) > 1:
        gaps = [(a, b) for a, b in zip(numbers, numbers[1:], strict=False) if b - a > 1]
        if gaps:  # a sequence with holes is usually a render that did not finish: say so
            shown = ", ".join(f"{a + 1}-{b - 1}" if b - a > 2 else str(a + 1) for a, b in gaps[:5])
            print(f"  warning: {path} has no frame {shown}{', ...' if len(gaps) > 5 else ''} between {numbers[0]} "
                  f"and {numbers[-1]}; those frames are skipped (give --frames to choose the frames explicitly)",
                  file=sys.stderr)
    if reader.spec.channels not in (3, 4):
        raise UserError(
            f"{path} has {reader.spec.channels} channel(s); EmotionEdit edits RGB or RGBA plates"
        )
    return reader


def _plate_info(reader: FrameReader) -> PlateInfo:
    return PlateInfo(path=str(reader.path), width=reader.spec.width, height=reader.spec.height,
                     frame_numbers=list(reader.frame_numbers), fps=reader.spec.fps)


def _analyze_reader(reader: FrameReader, args) -> Analysis:
    options = TrackerOptions(selection=FaceSelection.parse(getattr(args, "face", "largest")))
    width, height = reader.spec.width, reader.spec.height
    if options.selection.mode == "point":
        x, y = options.selection.point
        if not (0 <= x < width and 0 <= y < height):
            raise UserError(f"--face {x:g},{y:g} is outside the {width}x{height} plate; give a point on the face "
                            "to follow, in pixels from the top-left corner")
    neutral = None
    reference = None
    if getattr(args, "neutral_from", None):
        if getattr(args, "neutral_frames", None):
            raise UserError("give --neutral-frames (frames of this shot) or --neutral-from (another take), not both")
        reference = _read_analysis(args.neutral_from).fit.neutral
    if getattr(args, "neutral_frames", None):
        neutral = parse_frames(args.neutral_frames).numbers()
        # Checked before the shot is tracked, not after.
        outside = sorted(set(neutral) - set(reader.frame_numbers))
        if outside:
            shown = ", ".join(str(n) for n in outside[:5]) + (", ..." if len(outside) > 5 else "")
            numbers = list(reader.frame_numbers)
            raise UserError(f"--neutral-frames names frames the shot does not have ({shown}); the shot has frames "
                            f"{numbers[0]}-{numbers[-1]}: choose resting frames among them")
    with _progress(len(reader), "analyze") as bar:
        analysis = analyze(iter(reader), _plate_info(reader), options, neutral, bar.update, reference)
    if not getattr(args, "neutral_frames", None):
        _warn_resting_doubts(analysis)
    match = analysis.fit.neutral_match
    if match == match and match > NEUTRAL_MATCH_WARNING:  # not NaN, and a loose fit
        print(f"  warning: the resting face from {args.neutral_from} fits this shot's face loosely ({match:.3f} IOD "
              "on the skull's points; takes of one actor differ by about 0.02): check it is the same actor",
              file=sys.stderr)
    return analysis


def _warn_resting_doubts(analysis: Analysis) -> None:
    """Tell the user when the resting face estimated from the shot does not look at rest (resting_warning)."""
    text = resting_warning(analysis)
    if text:
        print(f"  warning: {text}", file=sys.stderr)


def _report_analysis(s: dict) -> None:
    """What ``Analysis.summary()`` says of the shot, on stderr."""
    print(f"  {s['edited']} of {s['frames']} frames have a usable face", file=sys.stderr)
    for key, text in (("lost", "face not found"), ("profile", "head turned too far (profile)"),
                      ("unreliable", "landmarks unreliable (occlusion or blur)")):
        if s[key]:
            print(f"  {s[key]} frames: {text}; they pass through unedited", file=sys.stderr)
    if s["several_faces"]:
        print(f"  {s['several_faces']} frames show more than one face; following the one chosen with --face",
              file=sys.stderr)


#: A map's depth below which analyze tells the user (a few per cent is the measure's own spread).
NOTED_DEPTH = 0.95


def _report_skin_depth(depth: dict[str, float]) -> None:
    """Which skin detail maps this plate takes shallower than measured (its light or softness shows real creases
    less deeply: render/skin_depth.py), on stderr; nothing when every map keeps its full depth."""
    shallower = {name: share for name, share in depth.items() if share < NOTED_DEPTH}
    if shallower:
        listed = ", ".join(f"{name.replace('_', ' ')} {share:.2f}" for name, share in sorted(shallower.items()))
        print(f"  skin detail: this plate shows creases shallower than the maps' own footage; --skin-detail 1 "
              f"shades them at {listed} of full depth", file=sys.stderr)


def _report_upper_teeth(teeth) -> None:
    """Which frame's upper teeth a smile lifting the lip shows (render/upper_teeth.py), or that none were found."""
    if teeth is None:
        print("  upper teeth: no analysed frame shows them; where a smile lifts a talking actor's upper lip off "
              "hidden teeth, the render shades the pocket instead (analyse the whole take: its smiles and laughs "
              "show them)", file=sys.stderr)
    else:
        print(f"  upper teeth: frame {teeth.frame} shows them ({teeth.exposure:.2f} IOD below the lip); a smile "
              "lifting the upper lip shows them", file=sys.stderr)


def _save_analysis_file(analysis: Analysis, path: Path) -> None:
    """``analysis.save`` to ``path``; a failed write (a full disk) raises a plain ``OSError``.

    When a write fails inside ``np.savez`` its ZipFile is left half closed and complains from
    ``__del__`` ("Exception ignored in ZipFile.__del__: seek of closed file") once the error is
    dropped; that echo of the same failure is kept off stderr, the failure itself is raised.
    """
    previous = sys.unraisablehook

    def quiet(unraisable) -> None:
        if not (isinstance(unraisable.exc_value, ValueError) and "ZipFile" in repr(unraisable.object)):
            previous(unraisable)

    failure = None
    sys.unraisablehook = quiet
    try:
        try:
            save_analysis(analysis, path, overwrite=True)
        except OSError as exc:
            failure = OSError(exc.errno, exc.strerror, exc.filename)
        gc.collect()
    finally:
        sys.unraisablehook = previous
    if failure is not None:
        raise failure


def cmd_analyze(args) -> int:
    output = Path(args.output)
    if args.neutral_from and output.resolve() == Path(args.neutral_from).resolve():
        raise UserError(f"{output} is the analysis --neutral-from reads; write this shot's analysis elsewhere")
    protect = [args.input] + ([args.neutral_from] if args.neutral_from else [])
    check_outputs([output], overwrite=args.overwrite, protect=protect)
    with _open_plate(args.input, args.frames) as reader:
        analysis = _analyze_reader(reader, args)
    check_outputs([output], overwrite=args.overwrite, protect=protect)  # again: it may have appeared since
    summary = analysis.summary()
    depth = shot_detail_depth(analysis)
    teeth = analysis.upper_teeth
    # Written through a temporary file that is loaded back before it gets its name; the analysis in memory is
    # let go of before that read-back, so the command never holds two of it (a long shot's peak stays its
    # tracking's).
    with staged((output, _verify_analysis)) as (temporary,):
        _save_analysis_file(analysis, temporary)
        del analysis
    _report_analysis(summary)
    _report_skin_depth(depth)
    _report_upper_teeth(teeth)
    print(f"analysis written to {output}")
    return 0


def _curve(args, name: str, low: float, high: float) -> Curve:
    return parse_curve(getattr(args, name.replace("-", "_")), name, low, high)


class EditCurves:
    """The animated edit parameters of a render, evaluated per frame into :class:`EditParams`."""

    def __init__(self, args):
        self.emotion = Emotion.parse(args.emotion)
        self.emotion2 = Emotion.parse(args.emotion2) if args.emotion2 else None
        self.intensity = _curve(args, "intensity", 0.0, MAX_INTENSITY)
        self.lips = _curve(args, "lip-preservation", 0.0, 1.0)
        self.skin = _curve(args, "skin-detail", 0.0, MAX_SKIN_DETAIL)
        self.blend = _curve(args, "blend", 0.0, 1.0)
        if self.emotion2 is None and not (self.blend.is_constant and self.blend.at(0) == 0.0):
            raise UserError("--blend mixes --emotion with --emotion2, but no --emotion2 was given: add "
                            "--emotion2 EMOTION, or leave --blend out")
        self.mode = args.mode
        self.regions = Region.parse_set(args.regions)

    def at(self, frame: int) -> EditParams:
        return EditParams(
            emotion=self.emotion, intensity=self.intensity.at(frame), emotion2=self.emotion2,
            blend=self.blend.at(frame), lip_preservation=self.lips.at(frame), mode=self.mode,
            regions=self.regions, skin_detail=self.skin.at(frame),
        ).validate()


class Holdout:
    """The user's holdout plate (``render --holdout``): per frame, (H, W) float32 in [0, 1], 1 = keep the source.

    A sequence or movie is read at the rendered frame's number; a single image holds out every frame.
    """

    def __init__(self, path: str, width: int, height: int):
        self.reader = open_frames(path)
        spec = self.reader.spec
        if (spec.width, spec.height) != (width, height):
            self.reader.close()
            raise UserError(f"the holdout {path} is {spec.width}x{spec.height} but the plate is {width}x{height}; "
                            "give a holdout matte of the plate's size (white = keep the source's pixels)")
        self.path = path
        self.still = len(self.reader) == 1
        self._still_matte = None

    def at(self, frame_number: int) -> np.ndarray:
        if self.still:
            if self._still_matte is None:
                self._still_matte = holdout_matte(self.reader.read(self.reader.frame_numbers[0]))
            return self._still_matte
        if frame_number not in self.reader.frame_numbers:
            numbers = self.reader.frame_numbers
            raise UserError(f"the holdout {self.path} has frames {numbers[0]}-{numbers[-1]} but not {frame_number}, "
                            "which is rendered; give a holdout covering the rendered frames (or one image)")
        return holdout_matte(self.reader.read(frame_number))

    def __enter__(self) -> Holdout:
        return self

    def __exit__(self, *exc) -> None:
        self.reader.close()


def cmd_render(args) -> int:
    curves = EditCurves(args)
    output_mode = Output.parse(args.output_mode)
    protect = [Path(args.input)] + ([Path(args.analysis)] if args.analysis else []) + (
        [Path(args.holdout)] if args.holdout else [])
    with _open_plate(args.input, args.frames) as reader, contextlib.ExitStack() as stack:
        if args.resume:  # keep the frames already written whole, render only the rest
            reader = resume_render(args.input, args.output, reader, stack, overwrite=args.overwrite,
                                   analysis=args.analysis, protect=protect)
            if reader is None:
                return 0
        # The output guard before any work (analysing, rendering); open_writer checks again.
        check_outputs(sorted(set(output_files(args.output, reader.frame_numbers).values())),
                      overwrite=args.overwrite, protect=protect, frame_numbers=reader.frame_numbers)
        holdout = None
        if args.holdout:
            holdout = stack.enter_context(Holdout(args.holdout, reader.spec.width, reader.spec.height))
        if args.analysis:
            analysis = _read_analysis(args.analysis)
            analysis.check_plate(reader.spec.width, reader.spec.height, reader.frame_numbers)
        else:
            print("no --analysis given: analysing the shot first (save one with `emotionedit analyze` "
                  "to render it many times)", file=sys.stderr)
            analysis = _analyze_reader(reader, args)
            _report_analysis(analysis.summary())
        if analysis.thumbnails is None:
            print(f"  warning: analysis file {args.analysis}: {UNCHECKED}", file=sys.stderr)
        if not analysis.steady:
            print(f"  note: analysis file {args.analysis}: {UNSTEADY}", file=sys.stderr)
        # Every frame's pixels are checked against the analysis's fingerprint before it is rendered.
        editor = ShotEditor(analysis, smoothing=args.smoothing, check_plate=not args.ignore_plate_mismatch,
                            device=args.device)
        nonfinite_frames = 0
        started = time.perf_counter()
        with open_writer(args.output, reader.spec, reader.frame_numbers, overwrite=args.overwrite,
                         protect=protect, source=reader) as writer, _progress(len(reader), "render") as bar:
            for note in writer.notes:  # what the output's format cannot keep of the plate (windows, AOVs)
                bar.write(f"  note: {note}", file=sys.stderr)
            out = None
            for number, image in reading(prefetch(reader), writer, args.input):  # decode the next frame meanwhile
                out = np.empty_like(image) if out is None or out.shape != image.shape else out
                matte = None if holdout is None else holdout.at(number)
                skipped = editor.render_into(out, image, number, curves.at(number), output_mode, matte)
                nonfinite_frames += skipped > 0
                writer.write(number, out)
                bar.update(1)
        elapsed = time.perf_counter() - started
    passed = int((analysis.fit.flags[[analysis.index_of(n) for n in reader.frame_numbers]] != 0).sum())
    if passed:
        print(f"  {passed} frames had no usable face and were written unedited", file=sys.stderr)
    if nonfinite_frames:
        print(f"  {nonfinite_frames} frames have NaN or inf inside the face; those pixels and their neighbours "
              "kept their source values", file=sys.stderr)
    print(f"wrote {len(reader)} frames to {args.output} ({len(reader) / elapsed:.1f} frames/s)")
    return 0


def _sample_frames(numbers: list[int], count: int) -> list[int]:
    picks = np.linspace(0, len(numbers) - 1, min(count, len(numbers))).round().astype(int)
    return [numbers[i] for i in sorted(set(picks))]


def make_preview(source: FrameReader, edited: FrameReader, sheet_path: Path, title: str, count: int = 6,
                 analysis: Analysis | None = None, movie_path: Path | None = None, overwrite: bool = False,
                 protect: Sequence[str | Path] = ()) -> None:
    """Write a contact sheet (and optionally a side-by-side movie) of source against edited.

    Neither may be an input (``source``, ``edited`` and ``protect``: the analysis file), even with
    ``overwrite``; both are checked before anything is read or written.
    """
    inputs = [source.path, edited.path, *protect]
    check_outputs([sheet_path] + ([movie_path] if movie_path is not None else []), overwrite=overwrite,
                  protect=inputs)
    numbers = [n for n in source.frame_numbers if n in set(edited.frame_numbers)]
    if not numbers:
        raise UserError(f"{source.path} and {edited.path} share no frame numbers")
    if (source.spec.width, source.spec.height) != (edited.spec.width, edited.spec.height):
        raise UserError("source and edited plates differ in size")
    picks = _sample_frames(numbers, count)
    faces = []
    for n in picks:
        face = None
        if analysis is not None and n in set(analysis.plate.frame_numbers):
            i = analysis.index_of(n)
            face = analysis.track.landmarks[i, :, :2] if analysis.track.found[i] else None
        faces.append(face)
    sheet = contact_sheet([source.read(n) for n in picks], [edited.read(n) for n in picks],
                          [f"#{n}" for n in picks], faces, title)
    with staged((sheet_path, verify_image)) as (temporary,):
        write_png(temporary, sheet)
    if movie_path is not None:
        from .io import FrameSpec
        from .preview import display_rgb

        height, width = source.spec.height, source.spec.width * 2
        spec = FrameSpec(width=width + width % 2, height=height + height % 2, channels=3,
                         channel_names=("R", "G", "B"), dtype=np.dtype(np.uint8), fps=source.spec.fps,
                         metadata=(), format_name="movie")
        with open_writer(movie_path, spec, numbers, overwrite=overwrite, protect=inputs) as writer:
            for n in numbers:
                pair = np.concatenate([display_rgb(source.read(n)), display_rgb(edited.read(n))], axis=1)
                pair = np.pad(pair, ((0, spec.height - height), (0, spec.width - width), (0, 0)))
                writer.write(n, pair)


def cmd_preview(args) -> int:
    outputs = [Path(args.output)] + ([Path(args.movie)] if args.movie else [])
    inputs = [args.source, args.edited] + ([args.analysis] if args.analysis else [])
    check_outputs(outputs, overwrite=args.overwrite, protect=inputs)  # before anything is read
    analysis = _read_analysis(args.analysis) if args.analysis else None
    with _open_plate(args.source, args.frames) as source, open_frames(args.edited) as edited:
        make_preview(source, edited, Path(args.output), args.title or f"{args.source} vs {args.edited}",
                     args.count, analysis, Path(args.movie) if args.movie else None, args.overwrite,
                     protect=inputs)
    print(f"contact sheet written to {args.output}" + (f", side-by-side movie to {args.movie}" if args.movie else ""))
    return 0


def cmd_eval(args) -> int:
    from .evaluate import evaluate_pair, evaluate_sweep, write_report

    target = Emotion.parse(args.target).name.lower() if args.target else None
    label = {"happy": "happy", "sad": "sad", "angry": "angry", "surprised": "surprise", "fearful": "fear",
             "disgusted": "disgust", "neutral": "neutral", "contempt": None}.get(target) if target else None
    if target and label is None:
        raise UserError("the FER2013 classifier has no 'contempt' class; evaluate another target")
    if args.intensities and len(args.intensities.split(",")) != len(args.edited):
        raise UserError("--intensities needs one value per edited clip")
    if args.intensities and len(args.edited) < 2:
        raise UserError("--intensities is for a sweep: give at least 2 edited clips, one per intensity")
    output = Path(args.output)
    plot = output.with_suffix(".png") if len(args.edited) == 1 else None
    sweep_plot = output.with_name(output.stem + "_sweep.png") if args.intensities else None
    outputs = [output] + [p for p in (plot, sweep_plot) if p is not None]
    inputs = [args.source, *args.edited] + [p for p in (args.reference, args.occluder_mask) if p]
    if plot is not None and plot.resolve() == output.resolve():
        raise UserError(f"the JSON report {output} would be overwritten by its plot, which is written beside it "
                        f"with the extension .png; name the report {output.with_suffix('.json')}")
    check_outputs(outputs, overwrite=args.overwrite, protect=inputs)  # every file eval writes, before any work
    reference, found = _reference_shapes(args)
    results = []
    with _open_plate(args.source, args.frames) as source:
        for path in args.edited:
            with open_frames(path) as edited:
                numbers = [n for n in source.frame_numbers if n in set(edited.frame_numbers)]
                if not numbers:
                    raise UserError(f"{args.source} and {path} share no frame numbers")
                masks = _occluder_masks(args.occluder_mask, numbers) if args.occluder_mask else None
                with _progress(len(numbers), f"eval {Path(path).name}") as bar:
                    result = evaluate_pair((source.read(n) for n in numbers), (edited.read(n) for n in numbers),
                                           target=label, identity_stride=args.identity_stride,
                                           progress=lambda _done: bar.update(1), reference=reference,
                                           occluder_masks=masks)
                result["source"], result["edited"] = args.source, path
                if found is not None and result.get("agreement"):
                    result["agreement"]["references"] = found
                results.append(result)
    report: dict = {"pairs": results}
    check_outputs(outputs, overwrite=args.overwrite, protect=inputs)  # again: they may have appeared since
    if sweep_plot is not None:
        values = [float(v) for v in args.intensities.split(",")]
        with staged((sweep_plot, verify_image)) as (temporary,):
            report["sweep"] = evaluate_sweep(list(zip(values, results, strict=True)), label, temporary)
        report["sweep"]["plot"] = str(sweep_plot)
    if plot is not None:
        with staged((output, _verify_json), (plot, verify_image)) as (json_temporary, plot_temporary):
            write_report(results[0], json_temporary, plot_temporary)
    else:
        with staged((output, _verify_json)) as (json_temporary,):
            write_report(report, json_temporary)
    _print_eval(results, report.get("sweep"), label)
    print(f"report written to {output}")
    return 0


def _reference_shapes(args) -> tuple[tuple | None, list[dict] | None]:
    """(reference, stretches): dlib shapes of the actor at rest and in his real expression (``eval --reference-*``),
    or None; with ``--reference-expression auto`` a third member, the rows' labels (each stretch found with its own
    resting frames), and the stretches (:func:`.evaluate.agreement.find_references`), else None."""
    auto = args.reference_expression == "auto"
    if args.reference_scan and not auto:
        raise UserError("--reference-scan is for --reference-expression auto")
    if not args.reference_neutral and not args.reference_expression:
        if args.reference or args.reference_rest_pool:
            option = "--reference" if args.reference else "--reference-rest-pool"
            raise UserError(f"{option} needs --reference-neutral and --reference-expression (frame ranges)")
        return None, None
    if not (args.reference_neutral and args.reference_expression):
        raise UserError("give both --reference-neutral and --reference-expression (frame ranges holding the actor's "
                        "resting face and his real expression), or neither")
    from .evaluate.agreement import EXPRESSION_CUES, find_references, measure_shapes, rest_like

    if auto:
        target = Emotion.parse(args.target).name.lower() if args.target else None
        if target not in EXPRESSION_CUES:
            raise UserError(f"--reference-expression auto finds the actor's own {' or '.join(EXPRESSION_CUES)} "
                            f"expressions: give --target {' or --target '.join(EXPRESSION_CUES)}, or the expression's "
                            "frames as a range")
        if args.reference_rest_pool:
            raise UserError("--reference-expression auto finds its own resting frames beside each expression; "
                            "leave out --reference-rest-pool")
    plate = args.reference or args.source

    def shapes_of(what: str, frames: str | None) -> tuple[np.ndarray, list[int]]:
        with _open_plate(plate, frames) as reader, _progress(len(reader), f"reference {what}") as bar:
            return measure_shapes((image for _, image in reader), lambda _done: bar.update(1)), list(
                reader.frame_numbers)

    neutral, _ = shapes_of("neutral", args.reference_neutral)
    if auto:
        if not np.all(np.isfinite(neutral), axis=(1, 2)).any():  # before the scan, which takes minutes
            raise UserError(f"--reference-neutral {args.reference_neutral}: no shape with a face in those frames; "
                            "choose frames where his face is visible")
        scan = args.reference_scan
        if scan is None:  # the whole plate, every other frame: an expression lasts far longer than two frames
            with _open_plate(plate, None) as reader:
                numbers = list(reader.frame_numbers)
            scan = str(frames_text(numbers[::2]))
        scanned, numbers = shapes_of("scan", scan)
        found = find_references(scanned, numbers, neutral, target)
        if not found:
            raise UserError(f"no stretch of {plate} shows the actor's own {target} expression beside resting frames "
                            "in the same head pose (half a second or more of it, the lips parted as at rest); give "
                            "--reference-expression and --reference-neutral as frame ranges, or scan more frames "
                            "with --reference-scan")
        for item in found:
            print(f"  {target} at {item['expression'][0]}-{item['expression'][-1]}: {len(item['rest'])} resting "
                  f"frames beside it, head pose gap {item['pose_gap']}")
        # Each stretch against its own resting frames (labels), not against another stretch's turned otherwise.
        pick = {n: k for k, n in enumerate(numbers)}
        rows = {key: [pick[n] for item in found for n in item[key]] for key in ("rest", "expression")}
        labels = tuple([g for g, item in enumerate(found) for _ in item[key]] for key in ("rest", "expression"))
        return (scanned[rows["rest"]], scanned[rows["expression"]], labels), found
    expression, _ = shapes_of("expression", args.reference_expression)
    if args.reference_rest_pool is not None:
        pool, _ = shapes_of("rest pool", args.reference_rest_pool)
        joining = rest_like(pool, neutral)
        print(f"  {len(joining)} of the {len(pool)} rest-pool frames look like the resting frames and join them")
        neutral = np.concatenate([neutral, joining])
    return (neutral, expression), None


def _occluder_masks(path: str, numbers: list[int]):
    """Per frame of ``numbers``, the occluder mask (H, W) bool from a matte plate (alpha if RGBA, else its
    first channel, above half range), or None where the plate lacks the frame; one image serves every frame."""
    with open_frames(path) as reader:
        have = set(reader.frame_numbers)
        still = len(reader) == 1
        for n in numbers:
            if not still and n not in have:
                yield None
                continue
            image = reader.read(reader.frame_numbers[0] if still else n)
            channel = image[..., 3] if image.ndim == 3 and image.shape[2] == 4 else image.reshape(
                image.shape[0], image.shape[1], -1)[..., 0]
            half = 0.5 if channel.dtype.kind == "f" else np.iinfo(channel.dtype).max / 2
            yield channel > half


def _print_naturalness(r: dict) -> None:
    agreement, anatomy, teeth, occluders = (r.get(k) for k in ("agreement", "anatomy", "teeth", "occluders"))
    if agreement:
        print(f"    agreement with the actor's real expression: cosine {agreement['cosine']}, outer-lip size ratio "
              f"{agreement['outer_lip_ratio']}")
        note = (agreement.get("pose_gap") or {}).get("note")
        if note:
            print(f"    warning: {note}")
    if anatomy:
        print(f"    {'feature (IOD)':14s} {'real':>8s} {'edit':>8s}  {'edit p5..p95':>16s}  verdict")
        for name, row in anatomy["features"].items():
            edit = row["edit"]
            mean = agreement["features"][name] if agreement else None
            real = f"{mean['real']:+8.3f}" if mean and mean["real"] is not None else f"{'':8s}"
            spread = f"{edit['p5']:+.3f}..{edit['p95']:+.3f}" if edit["p5"] is not None else "n/a"
            value = f"{edit['mean']:+8.3f}" if edit["mean"] is not None else f"{'n/a':>8s}"
            verdict = ("ok" if mean["ok"] else "NO: " + mean["why"]) if mean else ""
            print(f"    {name:14s} {real} {value}  {spread:>16s}  {verdict}")
    if teeth and teeth["frames_measured"]:
        print(f"    teeth: RMS non-rigid flow {teeth['rms_residual_mean']} IOD (max {teeth['rms_residual_max']}) "
              f"over {teeth['frames_measured']} open-mouth frames")
    if occluders and occluders["frames_measured"]:
        print(f"    occluders: mean flow {occluders['mean_flow_px']} px (max {occluders['max_flow_px']}), "
              f"changed share {occluders['changed_share_mean']} over {occluders['frames_measured']} frames")


def _print_eval(results: list[dict], sweep: dict | None, label: str | None) -> None:
    for r in results:
        line = [Path(r["edited"]).name]
        if label:
            e = r["emotion"]
            line.append(f"P({label}) {e['source_mean'][label]:.3f} -> {e['edited_mean'][label]:.3f}")
        lip = r["lip_sync"]
        corr = lip["aperture_correlation"]
        line.append(f"aperture r={corr:.3f}" if corr is not None else "aperture r=n/a")
        line.append(f"|d aperture|={lip['aperture_mean_abs_diff']:.4f} IOD")
        line.append(f"identity {r['identity']['mean_distance']:.3f}")
        line.append(f"pose drift {r['head_pose']['max_drift_deg']:.2f} deg")
        if r.get("jitter", {}).get("ratio") is not None:
            interval = r["jitter"].get("ratio_90pct")
            spread = f" (90 % {interval[0]:.2f}-{interval[1]:.2f})" if interval else ""
            line.append(f"landmark jitter x{r['jitter']['ratio']:.2f} the source's{spread}")
            for key, label in (("jitter_steady", "steady landmarks"), ("jitter_flow", "lips followed by flow")):
                reading = r.get(key, {})
                if reading.get("ratio") is not None and reading.get("ratio_90pct"):
                    low, high = reading["ratio_90pct"]
                    line.append(f"{label} x{reading['ratio']:.2f} ({low:.2f}-{high:.2f})")
        print("  " + ", ".join(line))
        _print_naturalness(r)
    if sweep:
        means = ", ".join(f"{i:g}: {m:.3f}" for i, m in zip(sweep["intensities"], sweep["target_mean"], strict=True))
        print(f"  sweep P({label}) by intensity: {means}; rises at every step: {sweep['monotonic']}")


def cmd_demo(args) -> int:
    from .footage import fetch_clip

    clip = fetch_clip("franck.mp4")
    out = Path(args.out)
    print(f"demo: editing franck.mp4 (FG-net talking face, frames {args.frames}) to happy; writing to {out}/",
          file=sys.stderr)
    analysis_path = out / "franck.analysis.npz"
    edited = out / "happy" / "franck.####.png"
    base = ["--overwrite"] if args.overwrite else []
    steps = [
        ["analyze", str(clip), "--frames", args.frames, "-o", str(analysis_path)] + base,
        ["render", str(clip), "--frames", args.frames, "--analysis", str(analysis_path), "-o", str(edited),
         "--emotion", "happy", "--intensity", "1", "--lip-preservation", "1"] + base,
        ["preview", str(clip), str(edited), "--frames", args.frames, "--analysis", str(analysis_path),
         "-o", str(out / "contact_sheet.png"), "--movie", str(out / "side_by_side.mp4"),
         "--title", "franck: happy, intensity 1, lip preservation 1"] + base,
    ]
    for step in steps:
        code = main(step)
        if code:
            return code
    print(f"\ndone. Look at {out / 'contact_sheet.png'} and {out / 'side_by_side.mp4'}; "
          f"the edited frames are {edited}")
    return 0


def _add_edit_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the edit (values accept keyframes: '0.5', '1001:0,1024:1', 'smooth:1001:0,1024:1')")
    g.add_argument("--emotion", default="happy", help=f"target emotion: {EMOTIONS} (default happy)")
    g.add_argument("--intensity", default="1", help=f"0 = untouched, 1 = full prototype, up to {MAX_INTENSITY:g}")
    g.add_argument("--emotion2", help="a second emotion to blend with the first")
    g.add_argument("--blend", default="0", help="0 = only --emotion, 1 = only --emotion2")
    g.add_argument("--lip-preservation", default="1",
                   help="0 = the emotion reshapes the mouth fully, 1 = keep the source's speech mouth shapes")
    g.add_argument("--skin-detail", default="1",
                   help="the expression's creases measured on real faces (smile folds, forehead lines): "
                        f"0 = geometry only, 1 = as deep as this plate shows real creases (measured at analysis: "
                        f"soft or flat-lit footage, a webcam, gets them shallower), up to {MAX_SKIN_DETAIL:g}")
    g.add_argument("--mode", default="add", choices=MODES,
                   help="add: on top of the performance; replace: remove the actor's own emotion first")
    g.add_argument("--regions", default="all", help="face regions to edit: all, or e.g. brows,eyes,cheeks,nose,mouth")
    g.add_argument("--smoothing", type=_smoothing, default=DEFAULT_SMOOTHING,
                   help=f"temporal smoothing of the face encoding, in frames: 0..{MAX_SMOOTHING:g} "
                   f"(default {DEFAULT_SMOOTHING:g})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emotionedit",
        description="Edit the facial emotion of a person in talking-face footage, keeping lip sync, identity, "
        "head pose and everything outside the face. Typical use: `analyze` a shot once, `render` it with the "
        "emotion you want, `preview` before/after, `eval` the result.",
    )
    parser.add_argument("--version", action="version", version=f"emotionedit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    plate_help = "a plate: shot.####.exr, shot.%%04d.png, one image, or a movie (.mp4, .mov, ...)"

    p = sub.add_parser("analyze", help="track the face and write the shot's analysis file")
    p.add_argument("input", help=plate_help)
    p.add_argument("-o", "--output", required=True, help="analysis file to write (e.g. shot.analysis.npz)")
    p.add_argument("--frames", help="frames: 1001-1100, 1001-1100x2 (every 2nd) or 1001,1005,1010-1020 "
                   "(default: all)")
    p.add_argument("--face", default="largest", help="which face: largest, an index from the left, or x,y pixels")
    p.add_argument("--neutral-frames", help="frames where the actor's face is at rest, e.g. 1001-1010 "
                   "(default: found automatically)")
    p.add_argument("--neutral-from", metavar="ANALYSIS",
                   help="take the actor's resting face from the analysis of another take of the same actor "
                   "(for a shot that cries or laughs throughout)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing analysis file")
    p.set_defaults(run=cmd_analyze)

    p = sub.add_parser("render", help="render the edit of a plate")
    p.add_argument("input", help=plate_help)
    p.add_argument("-o", "--output", required=True, help="output: shot_edit.####.exr (keeps depth, channels, "
                   "metadata), or a movie (.mkv lossless, .mp4)")
    p.add_argument("--analysis", help="analysis file from `emotionedit analyze` (default: analyse now)")
    p.add_argument("--frames", help="frames: 1001-1100, 1001-1100x2 (every 2nd) or 1001,1005,1010-1020 "
                   "(default: all)")
    p.add_argument("--face", default="largest", help="without --analysis: which face to follow")
    p.add_argument("--output-mode", default="edited", choices=[o.name.lower() for o in Output],
                   help="edited picture, the face matte (for compositing), landmarks drawn to check the track, "
                   "or the occlusion matte (white where hands or the holdout keep the source's pixels)")
    p.add_argument("--holdout", metavar="PLATE", help="a holdout matte (sequence, movie or one image of the plate's "
                   "size): white keeps the source's pixels, the edit fades out around it; added to the hands "
                   "the analysis found in front of the face")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--resume", "--skip-existing", action="store_true",
                   help="keep the output frames already written whole (each is decoded and checked), render only "
                   "the missing or damaged ones, and remove the temporary files of killed runs")
    p.add_argument("--ignore-plate-mismatch", action="store_true",
                   help="render even frames whose pixels do not match the analysis's fingerprint of the plate "
                   "(for the analysed plate retouched or graded beyond a global tone change; a re-grade by gain, "
                   "gamma or a tone curve passes without it)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"],
                   help="where the face is resampled: cpu (default), cuda (an NVIDIA GPU through a CUDA build of "
                   "torch) or auto (the GPU when there is one); the plan of each frame is made on the CPU")
    _add_edit_options(p)
    p.set_defaults(run=cmd_render)

    p = sub.add_parser("preview", help="before/after contact sheet and side-by-side movie")
    p.add_argument("source", help="the source plate")
    p.add_argument("edited", help="the edited plate")
    p.add_argument("-o", "--output", required=True, help="contact sheet PNG")
    p.add_argument("--movie", help="also write a side-by-side movie (.mp4 or .mkv)")
    p.add_argument("--analysis", help="analysis file, to crop the sheet to the face")
    p.add_argument("--frames", help="frames of the source, e.g. 1001-1100, 1001-1100x2 or 1001,1005")
    p.add_argument("--count", type=int, default=6, help="frames on the sheet (default 6)")
    p.add_argument("--title", help="title on the sheet")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(run=cmd_preview)

    p = sub.add_parser("eval", help="automated evaluation: emotion classifier, lip sync, identity, pose, flicker")
    p.add_argument("source", help="the source plate")
    p.add_argument("edited", nargs="+", help="one or more edited plates (several: an intensity sweep)")
    p.add_argument("--target", help=f"target emotion whose probability is reported ({EMOTIONS})")
    p.add_argument("--intensities", help="with several edited plates: their intensities, e.g. 0,0.25,0.5,0.75,1")
    p.add_argument("-o", "--output", required=True, help="JSON report (a plot is written beside it)")
    p.add_argument("--frames", help="frames of the source, e.g. 1001-1100, 1001-1100x2 or 1001,1005")
    p.add_argument("--identity-stride", type=int, default=4,
                   help="embed every n-th frame for the identity distance (80 ms each; default 4)")
    p.add_argument("--reference-neutral", metavar="RANGE", help="frames (of the source, or of --reference) where "
                   "the actor's face is at rest, e.g. 672-767: with --reference-expression, the edit is compared "
                   "with his own real expression (dlib 68 points)")
    p.add_argument("--reference-expression", metavar="RANGE", help="frames holding the actor's real expression "
                   "(e.g. his real smiles, 2330-2370), or 'auto': the stretches of the plate where he really shows "
                   "--target (happy or surprised) beside resting frames in the same head pose")
    p.add_argument("--reference-scan", metavar="RANGE", help="with --reference-expression auto: the frames to search "
                   "(default: every other frame of the plate)")
    p.add_argument("--reference", metavar="PLATE", help="another plate of the same actor holding those frames "
                   "(default: the source)")
    p.add_argument("--reference-rest-pool", metavar="RANGE", help="more frames to find the actor at rest in, in "
                   "other head poses (e.g. 0-3499x5): those whose mouth, brows and eyes lie within the "
                   "--reference-neutral frames' own 5-95 %% ranges join them, so each real expressive frame pairs "
                   "with resting frames turned as it is")
    p.add_argument("--occluder-mask", metavar="PLATE", help="matte of what covers the face in the source (a hand): "
                   "white on the occluder; reports how much the edit moved it")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("demo", help="edit a real talking-face clip (fetched once) and write a contact sheet")
    p.add_argument("--out", default="emotionedit-demo", help="output folder (default ./emotionedit-demo)")
    p.add_argument("--frames", default="672-767", help="frames of franck.mp4 (default 672-767: 28-32 s, talking)")
    p.add_argument("--overwrite", action="store_true", default=True, help=argparse.SUPPRESS)
    p.set_defaults(run=cmd_demo)

    add_verify_command(sub, _read_analysis)
    add_job_command(sub, _add_edit_options, EditCurves)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with terminate_like_interrupt():  # SIGTERM (a farm cancelling) cleans up like Ctrl-C
            return args.run(args)
    except UserError as exc:
        print(f"emotionedit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Terminated:
        print("terminated (SIGTERM): stopped; the file being written was removed, the frames before it are whole",
              file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
