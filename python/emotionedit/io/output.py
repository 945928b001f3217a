"""The one output guard and the verified write every file of every command goes through.

Two promises, kept for every file EmotionEdit writes (frames, movies, analysis
files, contact sheets, reports and their plots):

* :func:`check_outputs`, before any work: an output is never one of the inputs
  (not even with ``--overwrite``), never a directory, never two outputs of one
  command at once, and never replaces an existing file without ``overwrite``.
* :func:`staged` / :func:`publish`, for each file: it is written under a hidden
  temporary name next to its target, checked (not empty, and read back by a
  format-specific check), and only then renamed to its name. A full disk, a
  read-only folder or an encoder that silently wrote a damaged file ends in a
  :class:`~emotionedit.errors.UserError` naming the file, and nothing (no
  damaged file, no temporary) is left under the target's directory.
  With ``exclusive`` (an output written without ``--overwrite``) the name is
  taken by creating it exclusively (a hard link, which fails when the name
  exists): of two commands writing one output at once only the first keeps
  each name, the second stops with :class:`OutputAppeared` and replaces
  nothing.

A temporary is named ``.NAME.PID-XXXXXXXX@HOST.tmp.EXT`` (:func:`temporary_name`);
one left by a process that was killed (``kill -9``, a machine that died) is found by
:func:`stale_temporaries`.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputError, OutputExistsError, UserError
from .sequence import list_frames, parse_pattern

_SHOWN = 5  # how many paths an error message lists

#: A check of a freshly written temporary file: returns when it reads back whole,
#: raises :class:`WriteCheckFailed` (or :class:`UserError`) saying what is wrong otherwise.
Verify = Callable[[Path], None]


class WriteCheckFailed(Exception):
    """A written file does not read back whole; the message says what was found."""


class OutputAppeared(OutputExistsError):
    """An output was created by someone else while this command wrote it (an exclusive publish lost).

    ``path``: the output, left as the other writer made it.
    """

    def __init__(self, message: str, path: Path):
        super().__init__(message)
        self.path = Path(path)


#: How long a temporary of another machine (whose process cannot be checked from here) must be left
#: untouched before :func:`stale_temporaries` calls it stale: far longer than any file takes to write.
FOREIGN_STALE_SECONDS = 3600.0
_TEMPORARY = re.compile(
    r"^\.(?P<target>.+)\.(?P<pid>\d+)-(?P<token>[0-9a-f]{8})(?:@(?P<host>[A-Za-z0-9._-]*))?\.tmp(?P<ext>\.[^.]*)?$"
)


def _host() -> str:
    """This machine's name as it goes into temporary names (letters, digits, ``.``, ``-``, ``_``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname())[:40]


def temporary_name(target: Path) -> Path:
    """A hidden, unique name next to ``target`` with the same extension (so writers pick the format).

    ``.NAME.PID-XXXXXXXX@HOST.tmp.EXT``: the process and machine writing it, so
    that a temporary left by a killed process can be told from one being written
    (:func:`stale_temporaries`), also in a folder that render nodes share.
    """
    target = Path(target)
    return target.with_name(
        f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}@{_host()}.tmp{target.suffix}"
    )


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # it exists, another user's
        return True
    return True


def stale_temporaries(directory: Path, targets: Callable[[str], bool]) -> list[Path]:
    """Temporaries in ``directory`` of the file names ``targets`` accepts whose writer is gone.

    A temporary (see :func:`temporary_name`) is stale when its process no
    longer runs on this machine (it was killed: SIGKILL, a crash, a lost
    machine), or, for one written on another machine or by an older EmotionEdit
    (no ``@HOST``), when it has not changed for :data:`FOREIGN_STALE_SECONDS`.
    A temporary being written is never stale. Returns them sorted; nothing is
    removed here.
    """
    directory = Path(directory) if str(directory) else Path(".")
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    here, now, stale = _host(), time.time(), []
    for name in names:
        found = _TEMPORARY.match(name)
        if found is None or not targets(found.group("target")):
            continue
        path = directory / name
        if found.group("host") == here:
            gone = not _alive(int(found.group("pid")))
        else:
            try:
                gone = now - path.lstat().st_mtime > FOREIGN_STALE_SECONDS
            except OSError:
                continue
        if gone:
            stale.append(path)
    return sorted(stale)


def remove_quietly(path: Path) -> None:
    """Remove ``path`` and the files a writer derived from its name (``path.partial``...), if any.

    Never raises: a clean-up must not hide the error that caused it (a read-only
    folder refuses the unlink just as it refused the write).
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        names = [n for n in os.listdir(directory) if n == path.name or n.startswith(path.name + ".")]
    except OSError:
        names = [path.name]
    for name in names:
        try:
            (directory / name).unlink()
        except OSError:
            pass


def free_space(directory: Path) -> str:
    """``"1.2 MB free"`` for the file system holding ``directory`` (or its nearest existing parent)."""
    try:
        free = shutil.disk_usage(_nearest_existing(directory)).free
    except OSError:
        return "free space unknown"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if free >= size:
            return f"{free / size:.1f} {unit} free"
    return f"{free} bytes free"


def write_failed(path: Path, reason: str) -> UserError:
    """The error for an output that could not be written whole: what, why, and what to do."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    return UserError(
        f"{path} could not be written: {reason}; {directory} has {free_space(directory)}; nothing was left under "
        f"that name: free space (or fix the folder's permissions) and run the command again"
    )


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


def _protected(
    protect: Iterable[str | Path], frame_numbers: Sequence[int]
) -> tuple[set[Path], set[tuple[int, int]]]:
    """Resolved paths and (device, inode) identities of every input file in ``protect``."""
    from .movie import is_movie_path

    paths: set[Path] = set()
    identities: set[tuple[int, int]] = set()
    for entry in protect:
        entry = Path(entry)
        try:
            pattern = None if is_movie_path(entry) else parse_pattern(entry)
        except UserError:
            pattern = None
        candidates = [entry]
        if pattern is not None:
            candidates = [pattern.path(n) for n in frame_numbers]
            try:
                candidates += [pattern.path(n) for n in list_frames(pattern)]
            except InputError:
                pass
        for candidate in candidates:
            paths.add(candidate.resolve())
            identity = _identity(candidate)
            if identity is not None:
                identities.add(identity)
    return paths, identities


def _nearest_existing(directory: Path) -> Path:
    """``directory``, or its nearest parent that exists (where a missing folder would be created)."""
    directory = Path(directory).absolute()
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return directory


def _listing(paths: list[Path]) -> str:
    shown = ", ".join(str(p) for p in paths[:_SHOWN])
    return shown + (f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else "")


def check_outputs(
    targets: Iterable[str | Path],
    *,
    overwrite: bool = False,
    protect: Iterable[str | Path] = (),
    frame_numbers: Sequence[int] = (),
) -> None:
    """Refuse, before any work, outputs that would destroy something: the one output guard.

    ``targets``: every file the command will write. ``protect``: its inputs
    (files, movies or sequence patterns; a pattern covers its existing frames and
    ``frame_numbers``). Raises :class:`UserError` when a target is an input (by
    name, or the same file through a link) even with ``overwrite``, when a target
    is a directory, when two targets are the same file, or when a target's folder
    (or the existing folder it would be created in) cannot be written; raises
    :class:`OutputExistsError` when targets exist and not ``overwrite``.
    """
    targets = [Path(t) for t in targets]
    seen: dict[Path, Path] = {}
    for target in targets:
        key = target.resolve()
        if key in seen:
            raise UserError(
                f"two outputs of this command are the same file: {seen[key]} and {target}; give them different names"
            )
        seen[key] = target
    protected_paths, protected_ids = _protected(protect, frame_numbers)
    for target in targets:
        identity = _identity(target)
        if target.resolve() in protected_paths or (identity is not None and identity in protected_ids):
            raise UserError(
                f"output {target} is one of the input files; EmotionEdit never overwrites its inputs, "
                f"not even with --overwrite: choose another output name"
            )
        if target.is_dir():
            raise UserError(f"output {target} is a directory; give a file name inside it, e.g. {target / 'out'}")
    folders = {target.parent: target for target in targets}  # a sequence's frames share one folder
    for parent, target in folders.items():
        folder = _nearest_existing(parent)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UserError(
                f"output {target} cannot be written: {folder} is read-only or you may not write in it; "
                f"choose an output folder you can write to"
            )
    existing = [t for t in targets if os.path.lexists(t)]
    if existing and not overwrite:
        raise OutputExistsError(
            f"{len(existing)} output file{'s' if len(existing) != 1 else ''} already exist: "
            f"{_listing(existing)}; pass --overwrite to replace them, or choose another output"
        )


def make_directory(path: Path) -> None:
    """Create the directory ``path`` will be written in; :class:`UserError` if it cannot be."""
    directory = Path(path).parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UserError(f"{path}: cannot create the directory {directory}: a file is in its way") from None
    except OSError as exc:
        raise UserError(
            f"{path}: cannot create the output directory {directory}: {exc.strerror or exc}; "
            f"choose a folder you can write to"
        ) from exc


def verify_not_empty(temporary: Path) -> None:
    """The first check of every written file: it exists and holds at least one byte."""
    try:
        size = temporary.stat().st_size
    except OSError as exc:
        raise WriteCheckFailed(f"the file is missing after writing ({exc.strerror or exc})") from exc
    if size == 0:
        raise WriteCheckFailed("the file is empty after writing (0 bytes)")


def publish(temporary: Path, target: Path, verify: Verify, *, exclusive: bool = False) -> None:
    """Check the written ``temporary`` (not empty, then ``verify``) and rename it to ``target``.

    On any failure the temporary is removed and :func:`write_failed`'s error raised.
    ``exclusive``: take the name only if nothing has it (:func:`claim`), else
    raise :class:`OutputAppeared` and leave what is there.
    """
    publish_all([(temporary, target, verify)], exclusive=exclusive)


def claim(temporary: Path, target: Path) -> None:
    """Give the whole file ``temporary`` the name ``target`` only if that name is free, atomically.

    A hard link creates the name or fails when it exists, so of two processes
    claiming one name exactly one succeeds, and ``target`` never holds part of a
    file. Where the file system has no hard links, the name is reserved by an
    exclusive create and then replaced by the whole file (an empty file holds the
    name for that moment). Raises :class:`OutputAppeared` when the name is taken.
    """
    temporary, target = Path(temporary), Path(target)
    taken = OutputAppeared(
        f"{target} appeared while this command was writing it (another command writing the same output at the "
        f"same time?); it was left as that command wrote it and this one stops: run one command per output, "
        f"or give each its own frames (--frames), or pass --overwrite to replace what is there", target)
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise taken from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            raise taken from None
        os.replace(temporary, target)
        return
    try:
        os.unlink(temporary)
    except FileNotFoundError:
        pass


def publish_all(files: Sequence[tuple[Path, Path, Verify]], *, exclusive: bool = False) -> None:
    """:func:`publish` for several ``(temporary, target, verify)`` at once: all are checked
    before any is renamed, so a failure leaves none of them under its name (with ``exclusive``,
    a name found taken stops the rest; the ones claimed before it stay, whole)."""
    try:
        for temporary, target, verify in files:
            try:
                verify_not_empty(temporary)
                verify(temporary)
            except (WriteCheckFailed, UserError) as exc:
                raise write_failed(target, f"it does not read back whole ({exc})") from exc
        for temporary, target, _ in files:
            try:
                if exclusive:
                    claim(temporary, target)
                else:
                    os.replace(temporary, target)
            except OutputAppeared:
                raise
            except OSError as exc:
                raise write_failed(target, exc.strerror or str(exc)) from exc
    except BaseException:
        for temporary, _, _ in files:
            remove_quietly(temporary)
        raise


@contextmanager
def staged(*outputs: tuple[str | Path, Verify], exclusive: bool = False) -> Iterator[list[Path]]:
    """Write files under temporary names, then verify and publish them together.

    ``outputs``: ``(target, verify)`` pairs. Yields the temporary paths (same
    extensions as the targets) to write to. When the block ends normally every
    temporary is checked (:func:`publish_all`) and renamed to its target; when it
    raises, the temporaries are removed. An ``OSError`` of the block (a full or
    read-only disk) becomes a :class:`UserError` naming the first target.
    ``exclusive``: each target is claimed only if its name is free (see :func:`claim`).
    """
    targets = [Path(target) for target, _ in outputs]
    for target in targets:
        make_directory(target)
    temporaries = [temporary_name(target) for target in targets]
    try:
        yield temporaries
    except OSError as exc:
        failed = targets[0]
        for temporary, target in zip(temporaries, targets, strict=True):
            if exc.filename is not None and Path(exc.filename).name.startswith(temporary.name):
                failed = target
        error = write_failed(failed, exc.strerror or str(exc))  # the free space before the clean-up
        for temporary in temporaries:
            remove_quietly(temporary)
        raise error from exc
    except BaseException:
        for temporary in temporaries:
            remove_quietly(temporary)
        raise
    publish_all([(t, target, v) for t, target, (_, v) in zip(temporaries, targets, outputs, strict=True)],
                exclusive=exclusive)
