"""SIGTERM handled like SIGINT: how a farm cancels a task must leave nothing half-written.

Farm engines (Deadline, OpenCue's RQD, Open Job Description sessions) cancel a
task with SIGTERM, then SIGKILL after a grace period. Python's default for
SIGTERM ends the process at once, so the clean-ups that Ctrl-C runs (the
temporary being written removed, a partial movie dropped) would not run. Inside
:func:`terminate_like_interrupt` SIGTERM raises :class:`Terminated`, a
:class:`KeyboardInterrupt`, so exactly the Ctrl-C paths run; the command then
exits with :data:`EXIT_TERMINATED` (143 = 128 + SIGTERM's number 15, what a
shell reports for a process ended by SIGTERM, so a farm's log tells a cancel
from a Ctrl-C, 130, and from a failure, 2).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Exit status after SIGTERM: 128 + 15, as a shell reports a process that SIGTERM ended.
EXIT_TERMINATED = 128 + signal.SIGTERM
#: Exit status after SIGINT (Ctrl-C): 128 + 2.
EXIT_INTERRUPTED = 128 + signal.SIGINT


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; raised in the main thread like Ctrl-C's :class:`KeyboardInterrupt`."""


def _raise_terminated(signum: int, frame) -> None:
    # A second SIGTERM while the first one's clean-up runs must not cut that clean-up short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated(f"signal {signum}")


@contextmanager
def terminate_like_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread; the old handler is restored after.

    Outside the main thread (where Python cannot set handlers) the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
