"""The processes EmotionEdit owns (the ``emotionedit`` command, the engine server): what they set up before
numpy loads.

numpy's OpenBLAS starts a thread per core and keeps them spinning after each of the engine's many small
solves (``strace``: about 1 500 ``sched_yield`` calls a frame), taking cores from the decoder and the
encoder. With one BLAS thread a render of 600 frames took 22-23 s instead of 26 s, on half the CPU time
(docs/results.md, Scale). OpenBLAS reads its thread count once, when it loads, so this must run before
anything imports numpy; a count the user set wins. A host that embeds the engine in its own process (the
OFX bridge) keeps its own environment: nothing here runs on import. There the node sets numpy's own OpenBLAS
(its private copy, loaded by the node's interpreter) to one thread at run time instead (:func:`one_blas_thread`):
with the host's threads busy, two BLAS threads made the plan of a 4K frame 52-213 ms, one thread 24-62
(docs/results.md, Speed).
"""

from __future__ import annotations

import os

# What OpenBLAS reads for its thread count, first found wins: a user who set any of them chose.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def own_process() -> None:
    """One BLAS thread for this process, unless the environment already chose a count."""
    if not any(os.environ.get(name) for name in BLAS_THREAD_VARIABLES):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


def command() -> int:
    """The ``emotionedit`` console script."""
    own_process()
    from .cli import main

    return main()


# The setters of numpy's OpenBLAS builds (64-bit integer interface first, then plain, then scipy-openblas's).
_SETTERS = ("openblas_set_num_threads64_", "openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads")


def numpy_openblas() -> list[str]:
    """The OpenBLAS libraries numpy has loaded in this process (its wheel's private copy), by path; [] where it
    has none, or where the loaded libraries cannot be listed (only Linux's /proc/self/maps is read). Other copies
    in the process (OpenCV's, a host's own) are not numpy's and are left out."""
    import numpy

    # Resolved as the maps list them (the interpreter may have been reached through a symbolic link).
    site = os.path.realpath(os.path.dirname(os.path.dirname(numpy.__file__))) + os.sep
    try:
        with open("/proc/self/maps") as maps:
            # address, permissions, offset, device, inode, then the path, which may hold spaces
            fields = (line.split(maxsplit=5) for line in maps if "openblas" in line.lower())
            paths = {os.path.realpath(f[5].strip()) for f in fields if len(f) == 6}
    except OSError:
        return []
    return sorted(p for p in paths if p.startswith(site) and os.path.basename(os.path.dirname(p)).startswith("numpy"))


def one_blas_thread() -> bool:
    """Set numpy's already loaded OpenBLAS to one thread, unless the environment chose a count: what
    :func:`own_process` does before numpy loads, for an interpreter embedded in a host's process, whose
    environment is the host's. Returns whether a library took it."""
    if any(os.environ.get(name) for name in BLAS_THREAD_VARIABLES):
        return False
    import ctypes

    done = False
    for path in numpy_openblas():
        try:  # a speed setting: whatever goes wrong here must not keep the node from loading
            library = ctypes.CDLL(path)
            setter = next((getattr(library, name) for name in _SETTERS if hasattr(library, name)), None)
            if setter is not None:
                setter(1)
                done = True
        except (OSError, AttributeError, TypeError):
            continue
    return done
