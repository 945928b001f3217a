"""Run a producer (decode, colour conversion) on a background thread while the consumer works.

Decoding and converting a 1080p float frame (~10 ms in OpenCV/numpy, which release the
GIL) overlaps with tracking the previous frame (~9 ms in MediaPipe): on two cores the
two stages then cost about the slower one, not their sum.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
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
