"""The background consumer that runs a movie's encoder behind the render loop."""

from __future__ import annotations

import threading

import pytest

from emotionedit.prefetch import WriteBehind


def test_items_are_consumed_in_order_on_another_thread():
    seen, threads = [], set()

    def consume(item):
        threads.add(threading.current_thread().name)
        seen.append(item)

    behind = WriteBehind(consume, depth=3)
    for i in range(100):
        behind.submit(i)
    behind.finish()
    assert seen == list(range(100))
    assert threads == {"emotionedit-write-behind"}


def test_submit_waits_while_depth_items_are_waiting():
    release = threading.Event()
    started = threading.Event()
    seen = []

    def consume(item):
        started.set()
        release.wait()
        seen.append(item)

    behind = WriteBehind(consume, depth=2)
    behind.submit(0)
    started.wait()  # 0 is being consumed; 1 and 2 fill the queue
    behind.submit(1)
    behind.submit(2)
    blocked = threading.Thread(target=behind.submit, args=(3,))
    blocked.start()
    blocked.join(0.3)
    assert blocked.is_alive(), "a fourth item was accepted while two were waiting and one was being consumed"
    release.set()
    blocked.join()
    behind.finish()
    assert seen == [0, 1, 2, 3]


def test_a_consumer_error_is_raised_by_the_next_submit_and_nothing_after_it_is_consumed():
    seen = []

    def consume(item):
        if item == 2:
            raise OSError("No space left on device")
        seen.append(item)

    behind = WriteBehind(consume)
    with pytest.raises(OSError, match="No space left"):
        for i in range(1000):
            behind.submit(i)
    with pytest.raises(OSError, match="No space left"):
        behind.finish()
    assert seen == [0, 1]


def test_finish_raises_an_error_of_the_last_items():
    behind = WriteBehind(lambda item: 1 / item)
    behind.submit(1)
    behind.submit(0)
    with pytest.raises(ZeroDivisionError):
        behind.finish()


def test_abort_drops_what_waits_and_stops_the_worker():
    release = threading.Event()
    seen = []

    def consume(item):
        release.wait()
        seen.append(item)

    behind = WriteBehind(consume, depth=2)
    for i in range(3):
        behind.submit(i)
    release.set()
    behind.abort()
    assert seen in ([0], [0, 1], [0, 1, 2])  # the item being consumed is finished; the rest may be dropped
    with pytest.raises(ValueError, match="after finish"):
        behind.submit(9)
    before = threading.active_count()
    behind.abort()  # twice is harmless
    assert threading.active_count() == before
