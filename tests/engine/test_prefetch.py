"""The background producer used to overlap decoding with tracking and rendering."""

import threading
import time

import pytest

from emotionedit.prefetch import prefetch


def test_items_arrive_in_order_and_complete():
    assert list(prefetch(iter(range(50)), depth=3)) == list(range(50))


def test_a_producer_error_reaches_the_consumer_at_its_position():
    def frames():
        yield 1
        yield 2
        raise OSError("truncated frame 3")

    seen = []
    with pytest.raises(OSError, match="truncated frame 3"):
        for item in prefetch(frames()):
            seen.append(item)
    assert seen == [1, 2]


def test_leaving_the_loop_early_stops_the_worker():
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    before = threading.active_count()
    for item in prefetch(endless(), depth=2):
        if item == 5:
            break
    # The generator is closed on break (CPython refcounting): its worker has been joined.
    time.sleep(0.05)
    assert threading.active_count() == before
    assert len(produced) <= 5 + 1 + 2 + 1  # at most depth items, plus one in flight, made ahead
