"""The engine server as another EmotionEdit version would run it, to check node and server refuse each other.

EMOTIONEDIT_TEST_OLD picks what differs:
``version``: the server runs EmotionEdit 0.0.0-old (it refuses the node itself);
``protocol``: the server speaks protocol 99 (it refuses the node's protocol 1);
``lenient``: the server runs 0.0.0-old but does not check the node (the node must refuse it).
"""

from __future__ import annotations

import os
import sys

import emotionedit
from emotionedit.server import protocol

mode = os.environ.get("EMOTIONEDIT_TEST_OLD", "version")
if mode == "protocol":
    protocol.PROTOCOL = 99  # before the server's modules bind it
else:
    emotionedit.__version__ = "0.0.0-old"

from emotionedit.server import server  # noqa: E402
from emotionedit.server.__main__ import main  # noqa: E402

if mode == "lenient":
    server.Server.hello_refusal = lambda self, fields: ""

if __name__ == "__main__":
    sys.exit(main())
