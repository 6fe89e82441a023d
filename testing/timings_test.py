# SPDX-License-Identifier: MIT
"""Tests of timings.py: the record built from the harness's phase lines and ctest's reports,
and the check that a doc's timings block is exactly its record's table."""
from __future__ import annotations

import json
import tempfile
import unittest
from pathlib import Path

import timings

JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="Linux" tests="3" failures="1">
  <testcase name="a.one" classname="a.one" time="1.5" status="run"/>
  <testcase name="a.two" classname="a.two" time="2.5" status="run"/>
  <testcase name="s.storm" classname="s.storm" time="30" status="fail"><failure message="x"/></testcase>
</testsuite>
"""
TESTS = {"kind": "ctestInfo", "tests": [
    {"name": "a.one", "properties": [{"name": "LABELS", "value": ["unit"]}]},
    {"name": "a.two", "properties": [{"name": "LABELS", "value": ["unit", "robustness"]}]},
    {"name": "s.storm", "properties": [{"name": "LABELS", "value": ["stress"]}]}]}


class TimingsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        (self.root / "junit.xml").write_text(JUNIT)
        (self.root / "tests.json").write_text(json.dumps(TESTS))
        # Written as phases end: the nested build ends before its parent.
        (self.root / "phases").write_text(
            "build asan\t1\t1000.0\t1300.0\t0\t\t\n"
            "packages\t0\t990.0\t1000.0\t0\t\t\n"
            "stress\t0\t1000.0\t1400.0\t0\t\t\n"
            f"ctest asan\t0\t1400.0\t1500.25\t8\t{self.root}/junit.xml\t{self.root}/tests.json\n")

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def write(self) -> dict:
        out = self.root / "out"
        code = timings.main(["write", "--tsv", str(self.root / "phases"), "--command", "test",
                             "--presets", "asan+tsan", "--started", "990", "--ended", "1501",
                             "--status", "8", "--installed", "npm:dashboard",
                             "--loadavg-start", "3.50 2.0 1.0 1/2 3", "--output-dir", str(out)])
        self.assertEqual(code, 0)
        files = list(out.iterdir())
        self.assertEqual(len(files), 1, files)  # the record, no temp file beside it
        self.assertRegex(files[0].name, r"^test-1970-01-01T00-16-30Z-.+\.json$")
        return json.loads(files[0].read_text())

    def test_the_record_holds_every_phase_in_start_order_with_its_ctest_labels(self) -> None:
        doc = self.write()
        self.assertEqual(doc["kind"], "timings")
        self.assertEqual(doc["total_seconds"], 511.0)
        self.assertEqual(doc["status"], 8)
        self.assertEqual(doc["run"]["version"], timings.project_version())
        self.assertEqual([p["name"] for p in doc["phases"]],
                         ["packages", "stress", "build asan", "ctest asan"])
        self.assertEqual(doc["phases"][2]["depth"], 1)
        self.assertEqual(doc["phases"][3]["seconds"], 100.2)
        ctest = doc["phases"][3]["ctest"]
        self.assertEqual((ctest["tests"], ctest["failed"]), (3, 1))
        self.assertEqual(ctest["labels"], [
            {"label": "robustness", "tests": 1, "test_seconds": 2.5},
            {"label": "stress", "tests": 1, "test_seconds": 30.0},
            {"label": "unit", "tests": 2, "test_seconds": 4.0}])
        self.assertEqual(doc["conditions"]["packages_installed_during_run"], ["npm:dashboard"])

    def test_a_doc_block_must_be_the_records_table(self) -> None:
        self.write()
        record = next((self.root / "out").iterdir())
        table = timings.markdown(record)
        self.assertIn("| **total** | **8m31s** |", table)
        self.assertIn("label `unit`: 2 tests, 4.0 s of test time", table)
        self.assertIn("ctest asan (exit 8) | 1m40s |", table)
        doc = self.root / "doc.md"
        doc.write_text(f"Intro.\n<!-- timings: out/{record.name} -->\n{table}<!-- /timings -->\n")
        self.assertEqual(timings.main(["check", "--expect-blocks", str(doc)]), 0)
        doc.write_text(f"<!-- timings: out/{record.name} -->\n"
                       f"{table.replace('8m31s', '3m00s')}<!-- /timings -->\n")
        self.assertEqual(timings.main(["check", str(doc)]), 1)  # typed by hand: caught
        doc.write_text("<!-- timings: out/absent.json -->\nx\n<!-- /timings -->\n")
        self.assertEqual(timings.main(["check", str(doc)]), 1)
        doc.write_text("no block\n")
        self.assertEqual(timings.main(["check", "--expect-blocks", str(doc)]), 1)

    def test_bad_phase_lines_exit_2(self) -> None:
        (self.root / "phases").write_text("build\tx\t1\t2\t0\n")
        code = timings.main(["write", "--tsv", str(self.root / "phases"), "--command", "test",
                             "--presets", "p", "--started", "1", "--ended", "2", "--status", "0",
                             "--output-dir", str(self.root / "out")])
        self.assertEqual(code, 2)
        self.assertEqual(timings.main(["markdown", str(self.root / "phases")]), 2)


if __name__ == "__main__":
    unittest.main()
