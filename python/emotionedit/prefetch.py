"""Overlap the stages of a frame loop on background threads.

:func:`prefetch` runs a producer (decode, colour conversion) ahead of the consumer:
decoding and converting a 1080p float frame (~10 ms in OpenCV/numpy, which release the
GIL) overlaps with tracking the previous frame (~9 ms in MediaPipe): on two cores the
two stages then cost about the slower one, not their sum.

:class:`WriteBehind` is the other end: it runs a consumer (an encoder) behind the
loop that produces its items, so that encoding a movie's frame (FFV1 at 1080p: about
as long as the engine's render of it) overlaps with rendering the next one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield ``items`` in order, producing up to ``depth`` of them ahead on a worker thread.

    An exception raised by the producer is re-raised in the consumer at the same position.
    Closing the returned generator (or abandoning it) stops the worker after at most one
    more item, so no thread outlives the loop that used it.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
        except BaseException as error:  # handed to the consumer, which re-raises it
            offer(_Failure(error))
            return
        offer(_DONE)

    worker = threading.Thread(target=work, name="emotionedit-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()


class WriteBehind:
    """Call ``consume(item)`` on a worker thread for every submitted item, in order, at most ``depth`` behind.

    :meth:`submit` returns as soon as the item is queued (it waits while ``depth`` items are waiting). The
    first exception raised by ``consume`` stops the consuming: nothing after it is consumed, and it is
    raised again by the next :meth:`submit` or by :meth:`finish`. :meth:`finish` waits until every item
    has been consumed; :meth:`abort` drops the waiting items and waits only for the one being consumed.
    Either way the worker has ended when they return, so what ``consume`` uses may then be closed.

    >>> out = []
    >>> behind = WriteBehind(out.append)
    >>> for i in range(3):
    ...     behind.submit(i)
    >>> behind.finish()
    >>> out
    [0, 1, 2]
    """

    def __init__(self, consume: Callable[[T], object], depth: int = 2, name: str = "emotionedit-write-behind"):
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self._consume = consume
        self._slots: queue.Queue = queue.Queue(maxsize=depth)
        self._failure: BaseException | None = None
        self._dropping = threading.Event()
        self._worker = threading.Thread(target=self._work, name=name, daemon=True)
        self._worker.start()

    def _work(self) -> None:
        while True:
            item = self._slots.get()
            if item is _DONE:
                return
            if self._failure is None and not self._dropping.is_set():
                try:
                    self._consume(item)
                except BaseException as error:  # handed to the producer, which re-raises it
                    self._failure = error

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def submit(self, item: T) -> None:
        """Queue ``item``; raises what an earlier item's ``consume`` raised, or ValueError once finished."""
        self._raise_failure()
        if not self._worker.is_alive():
            raise ValueError("submit() after finish() or abort()")
        while True:
            try:
                self._slots.put(item, timeout=0.1)
                return
            except queue.Full:
                self._raise_failure()

    def finish(self) -> None:
        """Wait until every queued item is consumed; raises what ``consume`` raised, if it did."""
        if self._worker.is_alive():
            self._slots.put(_DONE)
            self._worker.join()
        self._raise_failure()

    def abort(self) -> None:
        """Drop the items still waiting and stop the worker (the item being consumed is finished first)."""
        self._dropping.set()
        if self._worker.is_alive():
            self._slots.put(_DONE)
            self._worker.join()
