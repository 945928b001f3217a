"""A shot's analysis is freed when it is dropped, even the first one of a process (issue 11, Scale).

mediapipe keeps the traceback of an optional import it fails at its first import, and with it every
frame on the stack at that moment: analyze's and the command's, whose locals (the whole shot's
tracking) then lived as long as the process. Run in a fresh interpreter, so that mediapipe is first
imported inside ``analyze``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import gc, sys, weakref
sys.path.insert(0, sys.argv[2])
from emotionedit.analysis import PlateInfo
from emotionedit.engine import analyze
from file_helpers import read_clip

assert "mediapipe" not in sys.modules
frames = read_clip(sys.argv[1], 672, 3)
plate = PlateInfo(path=sys.argv[1], width=frames[0].shape[1], height=frames[0].shape[0], frame_numbers=[0, 1, 2],
                  fps=24.0)
analysis = analyze(zip(range(3), frames), plate)
assert "mediapipe" in sys.modules and analysis.fit.flags[0] == 0
track = weakref.ref(analysis.track)
del analysis
gc.collect()
print("alive" if track() is not None else "freed")
"""


def test_the_first_analysis_of_a_process_is_freed_when_dropped(franck_path):
    tests = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(franck_path), str(tests)], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "freed"
