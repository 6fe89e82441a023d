# SPDX-License-Identifier: MIT
"""Result files (docs/results-format.md), shared by pinsplit's Python tools.

write_atomically follows testing/output_file.h, the C++ writer, case for case:

  what PATH names          what write_atomically does
  "-"                      writes standard output; a failed write or flush is an error
  nothing (yet)            unique temp file in the same folder (created, with its parents,
                           when missing), then rename onto PATH
  a regular file           the same: a reader sees the old file or the new one, never half
  a symlink                follows it; its final target gets the treatment above, the link stays
  a device, FIFO, socket   written in place (no O_CREAT, no O_TRUNC); never replaced
  a directory              refused

Every failure raises OutputError naming the path and the reason, and no temp file outlives the
call. check_output_path runs the same classification without writing, so a long run refuses a
bad destination before it starts. finish_stdout turns lost standard output into an error.
"""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def project_version() -> str:
    """The project's version, read from project(pinsplit VERSION ...) in the top CMakeLists.txt,
    the one place it is set (the C++ programs get it from the same line through CMake)."""
    try:
        text = (REPO_ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    match = re.search(r"^project\(pinsplit\s+VERSION\s+([0-9][0-9.]*)", text, re.MULTILINE)
    return match.group(1) if match else "unknown"


def git_revision() -> str:
    """The checkout's short revision, with "-dirty" when it has uncommitted changes."""
    try:
        revision = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                                  check=True, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "diff", "--quiet", "HEAD", "--"],
                               capture_output=True).returncode != 0
        return revision + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class OutputError(OSError):
    """An output that cannot be written; the message names the path and the reason. An OSError,
    so callers that caught what write_atomically raised before keep catching it."""


def _classify(path: Path | str) -> tuple[str, Path | None]:
    """("stdout", None), ("replace", target) or ("in_place", target); raises OutputError."""
    if str(path) == "-":
        return "stdout", None
    path = Path(path)
    if str(path) == "":
        raise OutputError("empty output path")
    target = path
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError) as error:
            raise OutputError(f"cannot write '{path}': it is a symlink whose target cannot be "
                              f"resolved ({error})") from error
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return "replace", target
    except OSError as error:
        raise OutputError(f"cannot write '{path}': {error.strerror}") from error
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write '{path}': it is a directory")
    return ("replace" if stat.S_ISREG(info.st_mode) else "in_place"), target


def _check_folder(path: Path, target: Path) -> None:
    """The nearest existing ancestor of TARGET's folder must be a writable directory."""
    folder = target.parent
    while not folder.exists():
        if folder.is_symlink():  # a dangling link where a folder should be
            raise OutputError(f"cannot write '{path}': '{folder}' is a dangling symlink")
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write '{path}': '{folder}' is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write '{path}': folder '{folder}' is not writable")


def check_output_path(path: Path | str) -> None:
    """Raises OutputError now for a destination write_atomically would refuse later."""
    how, target = _classify(path)
    if how == "replace":
        _check_folder(Path(path), target)


def _write_stdout(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as error:
        raise OutputError(f"cannot write standard output: {error.strerror or error}") from error


def write_text(path: Path | str, text: str) -> None:
    """Writes TEXT to PATH as the table in the module's docstring says."""
    how, target = _classify(path)
    if how == "stdout":
        _write_stdout(text)
        return
    data = text.encode("utf-8")
    if how == "in_place":
        try:
            descriptor = os.open(target, os.O_WRONLY | os.O_CLOEXEC | os.O_NOCTTY)
        except OSError as error:
            raise OutputError(f"cannot open '{path}': {error.strerror}") from error
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
        except OSError as error:
            raise OutputError(f"cannot write '{path}': {error.strerror}") from error
        finally:
            os.close(descriptor)
        return
    _check_folder(Path(path), target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                                 dir=target.parent)
    except OSError as error:
        raise OutputError(f"cannot write '{path}': {error.strerror or error}") from error
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp creates 0600; a result file is as readable as any file the user creates.
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temp_name, 0o666 & ~mask)
        os.replace(temp_name, target)
    except BaseException as error:
        Path(temp_name).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OutputError(f"cannot write '{path}': {error.strerror or error}") from error
        raise


def write_atomically(path: Path | str, document: dict[str, Any]) -> None:
    """Writes DOCUMENT as indented JSON to PATH (write_text's rules)."""
    write_text(path, json.dumps(document, indent=1) + "\n")


def finish_stdout(program: str, exit_status: int, lost: OSError | None = None) -> int:
    """Flushes standard output; lost output (LOST: what a print raised) is never a success: it
    prints "PROGRAM: error: cannot write standard output: WHY" and returns 2."""
    try:
        if lost is not None:
            raise lost
        sys.stdout.flush()
    except OSError as error:
        print(f"{program}: error: cannot write standard output: {error.strerror or error}",
              file=sys.stderr)
        # Python would try (and fail) to flush again at exit: point stdout somewhere harmless.
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
        return 2
    return exit_status
