# SPDX-License-Identifier: MIT
"""In-tree PEP 517 build backend of the joules Python package, standard library only.

Why not setuptools: building a wheel with the setuptools backend needs the separate `wheel`
package before setuptools 70.1, which an offline machine often lacks (pip then fails with
"invalid command 'bdist_wheel'"). This backend needs nothing beyond Python itself, so
`pip install ./python` works offline, with or without build isolation.

The wheel holds the pure-Python package and, when found at build time, a copy of libjoules
(joules/libjoules.so), of the simulated GPU (joules/joules/libnvidia-ml.so.1) and of the
window edges in C built for the building interpreter (joules/joules/_fast<suffix>), the
layout the package looks for first. Found from: JOULES_LIBRARY (else <repo>/build/lib/libjoules.so),
JOULES_SIM_LIBRARY or JOULES_SIM_LIB (else <dir of libjoules>/joules/libnvidia-ml.so.1).
Without a library the build fails (a clone that was never built would otherwise give a
wheel that cannot work), unless JOULES_BUNDLE=0 asks for a pure-Python wheel that finds the
library at run time instead.

The version is not written in pyproject.toml (dynamic): it is read from include/joules.h,
the one place it is written (see _version()).
"""
import base64
import hashlib
import importlib.util
import io
import os
import re
import sys
import sysconfig
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "joules"


def _version():
    """The version from its one source, include/joules.h (read by joules/_version.py); in an
    unpacked sdist, which has no header, from the PKG-INFO the sdist was built with."""
    spec = importlib.util.spec_from_file_location("_joules_version",
                                                  os.path.join(HERE, NAME, "_version.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    version = module.from_header(module.SOURCE_HEADER)
    if version:
        return version
    pkg_info = os.path.join(HERE, "PKG-INFO")
    if os.path.isfile(pkg_info):
        found = re.search(r"^Version:\s*(\S+)", open(pkg_info, encoding="utf-8").read(), re.M)
        if found:
            return found.group(1)
    raise RuntimeError("joules build: no version: %s has no JOULES_VERSION_* lines and there "
                       "is no PKG-INFO" % module.SOURCE_HEADER)


def _meta():
    text = open(os.path.join(HERE, "pyproject.toml"), encoding="utf-8").read()
    version = _version()
    summary = re.search(r'^description\s*=\s*"([^"]+)"', text, re.M).group(1)
    requires = re.search(r'^requires-python\s*=\s*"([^"]+)"', text, re.M)
    return version, summary, requires.group(1) if requires else None


def _metadata():
    version, summary, requires = _meta()
    lines = ["Metadata-Version: 2.1", "Name: %s" % NAME, "Version: %s" % version,
             "Summary: %s" % summary, "License: MIT"]
    if requires:
        lines.append("Requires-Python: %s" % requires)
    return "\n".join(lines) + "\n"


def _libraries():
    """[(archive name, file)] of the native libraries to bundle."""
    if os.environ.get("JOULES_BUNDLE", "1") == "0":
        return []
    lib = os.environ.get("JOULES_LIBRARY") or os.path.join(os.path.dirname(HERE), "build",
                                                           "lib", "libjoules.so")
    if not os.path.isfile(lib):
        # Fail, not warn: pip shows a backend's output only when it fails, and a wheel
        # without the library installs fine and then cannot measure anything.
        raise RuntimeError(
            "joules build: no libjoules at %s: build it first (`make build` in the "
            "repository, then pip install ./python again), or name it with "
            "JOULES_LIBRARY=/path/to/libjoules.so; JOULES_BUNDLE=0 builds a pure-Python wheel "
            "on purpose, which needs JOULES_LIBRARY (or an installed libjoules) at run time"
            % lib)
    out = [("joules/libjoules.so", os.path.realpath(lib))]
    sim = (os.environ.get("JOULES_SIM_LIBRARY") or os.environ.get("JOULES_SIM_LIB")
           or os.path.join(os.path.dirname(os.path.abspath(lib)), "joules", "libnvidia-ml.so.1"))
    if os.path.isfile(sim):
        out.append(("joules/joules/libnvidia-ml.so.1", os.path.realpath(sim)))
    else:
        sys.stderr.write("joules build: no simulated GPU at %s; sim= will need "
                         "JOULES_SIM_LIBRARY\n" % sim)
    return out + _extension(os.path.join(os.path.dirname(os.path.abspath(lib)), "joules"))


def _extension(where):
    """[(archive name, file)] of the window edges in C (joules/_fast.c), built beside
    libjoules for this interpreter: the package looks for them beside its libjoules."""
    import importlib.machinery
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(where, "_fast" + suffix)
        if os.path.isfile(path):
            return [("joules/joules/_fast" + suffix, os.path.realpath(path))]
    sys.stderr.write("joules build: no joules._fast for this interpreter in %s; the window "
                     "edges stay in ctypes\n" % where)
    return []


def _sources():
    pkg = os.path.join(HERE, NAME)
    for root, dirs, files in os.walk(pkg):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for f in sorted(files):
            if f.endswith(".py"):
                full = os.path.join(root, f)
                yield os.path.relpath(full, HERE).replace(os.sep, "/"), full


def _tag(native):
    if not native:
        return "py3-none-any"
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return "py3-none-%s" % plat


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (name, digest, len(data))


def _write_wheel(wheel_directory, files):
    """files: [(archive name, bytes, mode)] of the package; writes the .whl."""
    version = _meta()[0]
    native = any(n.endswith((".so", ".so.1")) for n, _, _ in files)
    tag = _tag(native)
    dist = "%s-%s.dist-info" % (NAME, version)
    wheel_name = "%s-%s-%s.whl" % (NAME, version, tag)
    extra = [
        (dist + "/METADATA", _metadata().encode(), 0o644),
        (dist + "/WHEEL", ("Wheel-Version: 1.0\nGenerator: joules-build\nRoot-Is-Purelib: %s\n"
                           "Tag: %s\n" % ("false" if native else "true", tag)).encode(), 0o644),
        (dist + "/top_level.txt", b"joules\n", 0o644),
    ]
    records = []
    path = os.path.join(wheel_directory, wheel_name)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, mode in files + extra:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
            records.append(_record_line(name, data))
        records.append("%s/RECORD,," % dist)
        z.writestr(zipfile.ZipInfo(dist + "/RECORD", date_time=(2020, 1, 1, 0, 0, 0)),
                   "\n".join(records) + "\n")
    return wheel_name


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = [(n, open(f, "rb").read(), 0o644) for n, f in _sources()]
    files += [(n, open(f, "rb").read(), 0o755) for n, f in _libraries()]
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """An editable install: a .pth file that puts this source directory on sys.path."""
    return _write_wheel(wheel_directory, [("joules_editable.pth", (HERE + "\n").encode(),
                                           0o644)])


def build_sdist(sdist_directory, config_settings=None):
    version = _meta()[0]
    base = "%s-%s" % (NAME, version)
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as t:
        members = list(_sources()) + [
            (f, os.path.join(HERE, f)) for f in ("pyproject.toml", "_build_backend.py")]
        for n, f in members:
            t.add(f, arcname="%s/%s" % (base, n), recursive=False)
        data = _metadata().encode()
        info = tarfile.TarInfo("%s/PKG-INFO" % base)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return name
