"""A PEP 517 build backend in the standard library: builds the pure-Python wheel of
tunedhttp_serve (and an sdist), so that `pip install ./python` needs nothing from an index.
The name, version and entry points are read from pyproject.toml."""

import base64
import hashlib
import io
import os
import tarfile
import tomllib
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "tunedhttp_serve"


def _project():
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as file:
        return tomllib.load(file)["project"]


def _names(project):
    return project["name"].replace("-", "_"), project["version"]


def _metadata(project):
    return (f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
            f"Summary: {project.get('description', '')}\n"
            f"Requires-Python: {project.get('requires-python', '')}\n")


def _entry_points(project):
    text = ""
    for group, entries in project.get("entry-points", {}).items():
        text += f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()) + "\n"
    return text


def _sources():
    for name in sorted(os.listdir(os.path.join(HERE, PACKAGE))):
        if name.endswith(".py"):
            yield f"{PACKAGE}/{name}", os.path.join(HERE, PACKAGE, name)


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}\n"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project = _project()
    name, version = _names(project)
    dist_info = f"{name}-{version}.dist-info"
    wheel_name = f"{name}-{version}-py3-none-any.whl"
    files = [(path, open(source, "rb").read()) for path, source in _sources()]
    files += [
        (f"{dist_info}/METADATA", _metadata(project).encode()),
        (f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: tunedhttp build_backend\n"
                               b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
        (f"{dist_info}/entry_points.txt", _entry_points(project).encode()),
    ]
    record = "".join(_record_line(path, data) for path, data in files)
    record += f"{dist_info}/RECORD,,\n"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w",
                         zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files:
            wheel.writestr(path, data)
        wheel.writestr(f"{dist_info}/RECORD", record)
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    name, version = _names(project)
    base = f"{name}-{version}"
    archive = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, archive), "w:gz") as sdist:
        for path in ["pyproject.toml", "build_backend.py"]:
            sdist.add(os.path.join(HERE, path), f"{base}/{path}")
        for path, source in _sources():
            sdist.add(source, f"{base}/{path}")
        info = _metadata(project).encode()
        entry = tarfile.TarInfo(f"{base}/PKG-INFO")
        entry.size = len(info)
        sdist.addfile(entry, io.BytesIO(info))
    return archive


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []
