# SPDX-License-Identifier: MIT
"""write_atomically / check_output_path, one row per kind of destination (result_files.py)."""
from __future__ import annotations

import io
import json
import os
import stat
import sys
import tempfile
import threading
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

import result_files  # noqa: E402
from result_files import OutputError, check_output_path, write_atomically  # noqa: E402

DOCUMENT = {"kind": "test", "n": 1}


class WriteAtomicallyTest(unittest.TestCase):
    def setUp(self) -> None:
        self._dir = tempfile.TemporaryDirectory()
        self.root = Path(self._dir.name)
        (self.root / "old.json").write_text("old")
        (self.root / "target.json").write_text("old")
        os.symlink("target.json", self.root / "link.json")
        os.symlink("nowhere.json", self.root / "dangling.json")
        os.mkfifo(self.root / "pipe")
        (self.root / "dir").mkdir()
        (self.root / "file").write_text("x")

    def tearDown(self) -> None:
        self._dir.cleanup()

    def leftovers(self) -> list[str]:
        return sorted(p.name for p in self.root.rglob("*") if ".tmp" in p.name)

    def test_every_kind_of_destination(self) -> None:
        # (name, path, error it must raise or None, check afterwards)
        def is_document(p: Path) -> bool:
            return json.loads(p.read_text()) == DOCUMENT

        rows = [
            ("missing file", "new.json", None,
             lambda: is_document(self.root / "new.json")),
            ("missing parents are created", "a/b/new.json", None,
             lambda: is_document(self.root / "a/b/new.json")),
            ("regular file replaced", "old.json", None,
             lambda: is_document(self.root / "old.json")),
            ("symlink: target replaced, link kept", "link.json", None,
             lambda: (self.root / "link.json").is_symlink()
             and is_document(self.root / "target.json")),
            ("directory refused", "dir", "is a directory",
             lambda: (self.root / "dir").is_dir()),
            ("dangling symlink refused", "dangling.json", "symlink",
             lambda: (self.root / "dangling.json").is_symlink()),
            ("a file where a folder should be", "file/x.json", "Not a directory",
             lambda: (self.root / "file").read_text() == "x"),
        ]
        for name, relative, error, check in rows:
            with self.subTest(name):
                path = self.root / relative
                if error is None:
                    check_output_path(path)
                    write_atomically(path, DOCUMENT)
                else:
                    with self.assertRaisesRegex(OutputError, error):
                        check_output_path(path)
                    with self.assertRaisesRegex(OutputError, error):
                        write_atomically(path, DOCUMENT)
                self.assertTrue(check())
                self.assertEqual(self.leftovers(), [])

    def test_fifo_is_written_in_place(self) -> None:
        got: list[bytes] = []
        reader = threading.Thread(target=lambda: got.append((self.root / "pipe").read_bytes()))
        reader.start()
        write_atomically(self.root / "pipe", DOCUMENT)
        reader.join(timeout=10)
        self.assertTrue(stat.S_ISFIFO(os.lstat(self.root / "pipe").st_mode))
        self.assertEqual(json.loads(got[0]), DOCUMENT)

    def test_stdout(self) -> None:
        out = io.StringIO()
        with mock.patch.object(sys, "stdout", out):
            write_atomically("-", DOCUMENT)
        self.assertEqual(json.loads(out.getvalue()), DOCUMENT)

    def test_device_is_written_in_place(self) -> None:
        write_atomically(Path("/dev/null"), DOCUMENT)
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/null").st_mode))

    def test_failures_leave_the_old_file_and_no_temp(self) -> None:
        failures = [
            ("rename fails", "os.replace"),
            ("fsync fails", "os.fsync"),
            ("chmod fails", "os.chmod"),
        ]
        for name, target in failures:
            with self.subTest(name), mock.patch(target, side_effect=OSError(5, "I/O error")):
                with self.assertRaisesRegex(OutputError, "I/O error"):
                    write_atomically(self.root / "old.json", DOCUMENT)
                self.assertEqual((self.root / "old.json").read_text(), "old")
                self.assertEqual(self.leftovers(), [])
        with self.subTest("a document that is not JSON"):
            with self.assertRaises(TypeError):
                write_atomically(self.root / "old.json", {"x": object()})
            self.assertEqual((self.root / "old.json").read_text(), "old")
            self.assertEqual(self.leftovers(), [])

    def test_temp_names_are_unique(self) -> None:
        names = []
        real = result_files.tempfile.mkstemp

        def spy(*args, **kwargs):
            fd, name = real(*args, **kwargs)
            names.append(name)
            return fd, name
        with mock.patch.object(result_files.tempfile, "mkstemp", side_effect=spy):
            write_atomically(self.root / "old.json", DOCUMENT)
            write_atomically(self.root / "old.json", DOCUMENT)
        self.assertEqual(len(set(names)), 2)

    def test_lost_stdout_is_an_error(self) -> None:
        with mock.patch.object(sys, "stdout", mock.Mock(flush=mock.Mock(
                side_effect=OSError(28, "No space left on device")))), \
                mock.patch.object(sys, "stderr", io.StringIO()) as err:
            self.assertEqual(result_files.finish_stdout("tool", 0), 2)
            self.assertIn("cannot write standard output", err.getvalue())
        sys.stdout = sys.__stdout__


if __name__ == "__main__":
    unittest.main()
