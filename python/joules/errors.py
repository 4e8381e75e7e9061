# SPDX-License-Identifier: MIT
"""Exceptions of the binding: every failing C call becomes a JoulesError."""
from . import _lib


class JoulesError(RuntimeError):
    """A libjoules call failed.

    .code    the negative JOULES_E_* code (int)
    .name    its name, e.g. "JOULES_E_STATE"
    .message the contextual message (joules_last_error), or the generic text of the code
    """

    def __init__(self, code, message=None):
        self.code = int(code)
        self.name = _lib.ERROR_NAMES.get(self.code, "JOULES_E_%d" % -self.code)
        if not message:
            message = strerror(self.code)
        self.message = message
        super().__init__("%s: %s" % (self.name, message))


class LibraryError(JoulesError, OSError):
    """libjoules itself could not be loaded (code JOULES_E_LIBRARY); .tried lists the places."""

    def __init__(self, message, tried=()):
        self.tried = list(tried)
        JoulesError.__init__(self, _lib.E_LIBRARY, message)


def strerror(code):
    """The generic text of an error code (from the library when it is loaded)."""
    try:
        return _lib.text(_lib.load().joules_strerror(int(code)))
    except Exception:  # the library is the thing that failed
        return _lib.ERROR_NAMES.get(int(code), "unknown error %d" % code)


def load_library():
    """libjoules, or LibraryError saying every path tried."""
    try:
        return _lib.load()
    except _lib.LibraryNotFound as e:
        raise LibraryError(str(e), e.tried) from None
