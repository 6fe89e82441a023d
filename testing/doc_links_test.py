# SPDX-License-Identifier: MIT
"""Tests of doc_links.py: resolving links and GitHub-style anchors, one row per case."""
from __future__ import annotations

import contextlib
import io
import tempfile
import unittest
from pathlib import Path

import doc_links

TARGET = """# The doc

## kind: "timings"
## The `stress` program, again!
## Repeat
## Repeat
<a id="custom"></a>
```
## not a heading
```
"""


class DocLinksTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        (self.root / "docs").mkdir()
        (self.root / "docs" / "t.md").write_text(TARGET)
        (self.root / "pic.png").write_bytes(b"x")

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def run_on(self, text: str, *flags: str) -> tuple[int, str]:
        doc = self.root / "README.md"
        doc.write_text(text)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = doc_links.main([*flags, str(doc)])
        return code, out.getvalue()

    def test_links_that_resolve(self) -> None:
        for link in ["docs/t.md", "docs/", "pic.png", "docs/t.md#kind-timings",
                     "docs/t.md#the-stress-program-again", "docs/t.md#repeat",
                     "docs/t.md#repeat-1", "docs/t.md#custom", "https://example.org/x#y",
                     "#a-heading"]:
            code, out = self.run_on(f"# A heading\n\nSee [it]({link}) and ![p](pic.png).\n")
            self.assertEqual(code, 0, f"{link}: {out}")

    def test_links_that_do_not(self) -> None:
        for link, why in [("docs/absent.md", "does not exist"),
                          ("docs/t.md#kind-timing", "no heading or anchor #kind-timing"),
                          ("docs/t.md#not-a-heading", "no heading or anchor"),
                          ("docs/t.md#repeat-2", "no heading or anchor"),
                          ("#nowhere", "no heading or anchor #nowhere")]:
            code, out = self.run_on(f"# A heading\n\nSee [it]({link}).\n")
            self.assertEqual(code, 1, link)
            self.assertIn("README.md:3: " + link, out)
            self.assertIn(why, out)

    def test_code_is_not_a_link(self) -> None:
        code, out = self.run_on("`[x](absent.md)`\n```\n[y](absent.md)\n```\n")
        self.assertEqual(code, 0, out)

    def test_max_lines(self) -> None:
        doc = str(self.root / "README.md")
        self.assertEqual(self.run_on("a\nb\n", "--max-lines", f"{doc}=2")[0], 0)
        code, out = self.run_on("a\nb\nc\n", "--max-lines", f"{doc}=2")
        self.assertEqual(code, 1)
        self.assertIn("3 lines, more than 2", out)

    def test_bad_arguments_exit_2(self) -> None:
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(doc_links.main([]), 2)
            self.assertEqual(doc_links.main(["--bogus", "x.md"]), 2)
            self.assertEqual(doc_links.main(["--max-lines", "x.md", "y.md"]), 2)
            self.assertEqual(doc_links.main([str(self.root / "absent.md")]), 2)


if __name__ == "__main__":
    unittest.main()
