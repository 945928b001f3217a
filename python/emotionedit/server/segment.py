"""The shared-memory segment a node connection renders through.

The node creates a POSIX shared-memory object (``shm_open`` with an unpredictable name,
mode 0600, unlinked at once), sizes it to the largest frame it has seen and passes the
file descriptor over the socket. The server maps it and builds numpy views of the
source and of the render window in it; nothing is copied on this side. The segment
is only as trusted as anything else from the socket: its type, owner and size are
checked on arrival, and every view is checked to lie inside it.
"""

from __future__ import annotations

import mmap
import os
import stat

import numpy as np

from .protocol import ProtocolError

#: The largest segment a node may pass: two 8K float RGBA frames fit with room to spare.
MAX_SEGMENT = 8 << 30


class Segment:
    """A mapped segment. ``fd`` is consumed (closed once mapped, or on refusal)."""

    def __init__(self, fd: int, size: int):
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ProtocolError("the segment is not a shared-memory object (not a regular file)")
            if info.st_uid != os.getuid():
                raise ProtocolError(f"the segment belongs to user {info.st_uid}, not to this server's user")
            if info.st_mode & 0o077:
                raise ProtocolError(f"the segment is readable by others (mode {info.st_mode & 0o777:o})")
            if not 0 < size <= MAX_SEGMENT:
                raise ProtocolError(f"a segment of {size} bytes is outside 1..{MAX_SEGMENT}")
            if info.st_size < size:
                raise ProtocolError(f"the segment is announced as {size} bytes but holds {info.st_size}")
            self.map = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        self.size = size

    def view(self, offset: int, shape: tuple[int, ...], dtype: np.dtype, writable: bool) -> np.ndarray:
        """A C-contiguous array of ``shape`` at byte ``offset``, checked to lie inside the segment."""
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if offset < 0 or offset % dtype.itemsize or nbytes <= 0 or offset + nbytes > self.size:
            raise ProtocolError(f"an image of {nbytes} bytes at offset {offset} does not fit the {self.size}-byte "
                                f"segment (or is misaligned for {dtype.name})")
        array = np.ndarray(shape, dtype, buffer=self.map, offset=offset)
        if not writable:
            array.setflags(write=False)
        return array

    def close(self) -> None:
        """Unmap, unless views of it are still alive (they keep the mapping; it goes with them)."""
        try:
            self.map.close()
        except BufferError:
            pass
