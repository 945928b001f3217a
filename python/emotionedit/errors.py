"""Errors a user can act on.

Every failure caused by input (a missing file, a plate without a face, an analysis
made for another shot) is raised as :class:`UserError`. The command line prints
its message and exits with status 2; it never shows a traceback for these.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input: the message says what was expected,
    what arrived, and what to do about it."""


class InputError(UserError):
    """An input file or sequence cannot be read as given."""


class OutputExistsError(UserError):
    """An output would overwrite an existing file without ``--overwrite``."""


class AnalysisMismatchError(UserError):
    """An analysis file does not belong to the plate it is used with."""


class NoFaceError(UserError):
    """No usable face was found where one was needed."""
