# SPDX-License-Identifier: MIT
"""The version of joules, from its one source: the JOULES_VERSION_* lines of include/joules.h.

At run time joules.__version__ is the loaded library's joules_version(); without a library,
the header of the source tree this package sits in, else the metadata of the installed
package (which the build backend, _build_backend.py, wrote from that header). Standard
library only, and importable on its own: the build backend loads this file to read the header.
"""
import os
import re

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(PACKAGE_DIR)
# <repo>/python/joules -> <repo>/include/joules.h, when this package is in the source tree.
SOURCE_HEADER = os.path.join(os.path.dirname(PYTHON_DIR), "include", "joules.h")


def from_header(path):
    """"MAJOR.MINOR.PATCH" from the JOULES_VERSION_* lines of a joules.h, or None."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    parts = [re.search(r"^#define\s+JOULES_VERSION_%s\s+(\d+)\s*$" % part, text, re.M)
             for part in ("MAJOR", "MINOR", "PATCH")]
    if not all(parts):
        return None
    return ".".join(m.group(1) for m in parts)


def version():
    """The version of joules (see the module's docstring); AttributeError when nothing says."""
    from . import _lib
    try:
        return _lib.text(_lib.load().joules_version())
    except _lib.LibraryNotFound:
        pass
    if os.path.isfile(os.path.join(PYTHON_DIR, "pyproject.toml")):
        v = from_header(SOURCE_HEADER)
        if v:
            return v
    try:
        from importlib import metadata
        return metadata.version("joules")
    except Exception:  # no importlib.metadata, or not installed
        pass
    raise AttributeError("joules.__version__: no libjoules to ask, and neither a source tree "
                         "nor installed package metadata says")
