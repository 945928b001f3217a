"""Exclusive publish (issue 11, defect 3): without --overwrite a name is taken only if nothing has it."""

from __future__ import annotations

import errno
import os
import threading

import numpy as np
import pytest

from emotionedit.io import FrameSpec, open_writer
from emotionedit.io.output import OutputAppeared, claim, temporary_name

SPEC = FrameSpec(8, 6, 3, ("R", "G", "B"), np.dtype(np.uint8), 24.0, (), "png")


def test_claim_takes_a_free_name_and_refuses_a_taken_one(tmp_path):
    target = tmp_path / "a.png"
    first, second = temporary_name(target), temporary_name(target)
    first.write_bytes(b"first")
    second.write_bytes(b"second")
    claim(first, target)
    assert target.read_bytes() == b"first" and not first.exists()
    with pytest.raises(OutputAppeared, match="appeared while this command was writing it") as caught:
        claim(second, target)
    assert caught.value.path == target and target.read_bytes() == b"first"


def test_of_many_writers_racing_for_one_name_exactly_one_wins(tmp_path):
    target = tmp_path / "a.png"
    outcomes = []

    def race(index: int) -> None:
        temporary = temporary_name(target)
        temporary.write_bytes(f"writer {index}".encode())
        try:
            claim(temporary, target)
            outcomes.append(index)
        except OutputAppeared:
            temporary.unlink()

    threads = [threading.Thread(target=race, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 1
    assert target.read_bytes() == f"writer {outcomes[0]}".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_without_hard_links_the_name_is_still_taken_exclusively(tmp_path, monkeypatch):
    def no_links(source, target):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "a.png"
    temporary = temporary_name(target)
    temporary.write_bytes(b"whole")
    claim(temporary, target)
    assert target.read_bytes() == b"whole" and not temporary.exists()
    again = temporary_name(target)
    again.write_bytes(b"other")
    with pytest.raises(OutputAppeared):
        claim(again, target)
    assert target.read_bytes() == b"whole"


def test_two_writers_opened_on_one_output_the_second_replaces_nothing(tmp_path):
    pattern = tmp_path / "out.####.png"
    first = open_writer(pattern, SPEC, [1, 2])
    second = open_writer(pattern, SPEC, [1, 2])  # both passed the output guard: nothing existed yet
    first.write(1, np.full(SPEC.shape, 10, np.uint8))
    with pytest.raises(OutputAppeared):
        second.write(1, np.full(SPEC.shape, 200, np.uint8))
    kept = (tmp_path / "out.0001.png").read_bytes()
    # With --overwrite the name is replaced, as asked.
    replacing = open_writer(pattern, SPEC, [1], overwrite=True)
    replacing.write(1, np.full(SPEC.shape, 200, np.uint8))
    assert (tmp_path / "out.0001.png").read_bytes() != kept
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
