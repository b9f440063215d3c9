"""The sealed bundle: hidden suites, references and quiz keys, encrypted into one file of the release.

The bundle is a tar archive encrypted with Fernet (AES-128-CBC with an
HMAC-SHA256 tag, from the `cryptography` library): without the key it can be
neither read nor altered undetected. The key lives in the CI secret
`GRADER_BUNDLE_KEY`; `grader grade` opens the bundle into a private temporary
folder only when that variable holds the key.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path, PurePosixPath

from grader.manifest import CourseError

KEY_ENV = "GRADER_BUNDLE_KEY"           #: the environment variable (the CI secret) holding the key
BUNDLE_PATH = ".grader/hidden.bundle"   #: where the bundle sits in a release
SEALED_MANIFEST = "manifest.json"       #: the checksums inside the bundle, which a student cannot forge
_FORMAT = "grader-bundle-1"             #: first member of every bundle, so a wrong file is named as such


class BundleError(CourseError):
    """The bundle cannot be opened: missing, altered, or a different key."""


def new_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


def check_key(key: str) -> str:
    """The key, stripped; a `BundleError` naming the problem if it is not a Fernet key."""
    from cryptography.fernet import Fernet

    key = key.strip()
    try:
        Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise BundleError(f"{KEY_ENV} is not a bundle key (expected 44 characters of url-safe base64)") from None
    return key


def seal(files: dict[str, bytes], key: str) -> bytes:
    """Encrypt `files` (relative posix path -> content) into one token."""
    from cryptography.fernet import Fernet

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, data in [(_FORMAT, b"")] + sorted(files.items()):
            _check_name(name)
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644   # the same files give the same archive
            archive.addfile(info, io.BytesIO(data))
    return Fernet(check_key(key).encode("ascii")).encrypt(buffer.getvalue())


def unseal(token: bytes, key: str) -> dict[str, bytes]:
    """The files in a sealed bundle; `BundleError` if the key does not open it."""
    from cryptography.fernet import Fernet, InvalidToken

    try:
        data = Fernet(check_key(key).encode("ascii")).decrypt(token)
    except InvalidToken:
        raise BundleError(f"{KEY_ENV} does not open {BUNDLE_PATH}: another key, or the file was altered") from None
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        members = archive.getmembers()
        if not members or members[0].name != _FORMAT:
            raise BundleError(f"{BUNDLE_PATH} is not a grader bundle")
        for member in members[1:]:
            _check_name(member.name)
            if member.isfile():
                files[member.name] = archive.extractfile(member).read()
    return files


def open_into(bundle: Path, key: str, folder: Path) -> list[str]:
    """Decrypt `bundle` into `folder` (kept private to this user); return the names written."""
    if not bundle.is_file():
        raise BundleError(f"{KEY_ENV} is set but the release has no {BUNDLE_PATH}")
    files = unseal(bundle.read_bytes(), key)
    os.chmod(folder, 0o700)
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return sorted(files)


def _check_name(name: str) -> None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BundleError(f"refusing a bundle member outside the bundle: {name!r}")
