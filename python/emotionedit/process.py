"""The processes EmotionEdit owns (the ``emotionedit`` command, the engine server): what they set up before
numpy loads.

numpy's OpenBLAS starts a thread per core and keeps them spinning after each of the engine's many small
solves (``strace``: about 1 500 ``sched_yield`` calls a frame), taking cores from the decoder and the
encoder. With one BLAS thread a render of 600 frames took 22-23 s instead of 26 s, on half the CPU time
(docs/results.md, Scale). OpenBLAS reads its thread count once, when it loads, so this must run before
anything imports numpy; a count the user set wins. A host that embeds the engine in its own process (the
OFX bridge) keeps its own settings: nothing here runs on import.
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
