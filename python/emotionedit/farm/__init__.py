"""Batch use on a render farm: cancelling, resuming and checking renders, and job files for farm engines.

* :mod:`.cancel`: SIGTERM (how farms cancel a task) handled like Ctrl-C.
* :mod:`.resume`: ``render --resume``: keep the frames already written whole, render the rest,
  clean the temporaries of killed runs.
* :mod:`.check`: ``emotionedit verify``: is an output complete, whole and of the analysed shot.
* :mod:`.jobs`: ``emotionedit job``: an analyze step, a chunked render step and a check step for
  Open Job Description, OpenCue or Deadline 10.
"""
