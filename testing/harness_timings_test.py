# SPDX-License-Identifier: MIT
"""`./harness test --timings` end to end, on a copy of the harness whose tools are stand-ins:
the phases it records (packages, configure, build, each ctest with its labels), the record
written when a step fails (the EXIT trap closes the open phases with the exit status), and no
record without --timings. The real tools are not run: this checks the harness's wiring; the
phases' real durations come from real runs (README.md)."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Stand-ins on PATH. Every package is installed; cmake "configures" by creating build.ninja;
# ctest lists two tests and writes a JUnit report, failing when CTEST_FAILS names the preset.
STUBS = {
    "dpkg-query": "#!/bin/sh\nprintf 'install ok installed'\n",
    "node": "#!/bin/sh\nexit 0\n",
    "npm": "#!/bin/sh\nexit 0\n",
    "git": "#!/bin/sh\necho abc1234\n",
    "cmake": """#!/bin/bash
if [[ $1 == --preset ]]; then mkdir -p "build/$2" && touch "build/$2/build.ninja"; fi
sleep 0.2
[[ $1 == --build && ${BUILD_FAILS:-} == "$3" ]] && exit 3
exit 0
""",
    "ctest": """#!/bin/bash
preset=$2
for arg; do
  case $arg in
    --show-only=json-v1)
      echo '{"tests": [{"name": "t.one", "properties": [{"name": "LABELS", "value": ["unit"]}]},
        {"name": "t.two", "properties": [{"name": "LABELS", "value": ["stress"]}]}]}'
      exit 0 ;;
  esac
done
junit=""
prev=""
for arg; do [[ $prev == --output-junit ]] && junit=$arg; prev=$arg; done
[[ -n $junit ]] && cat >"$junit" <<'XML'
<testsuite><testcase name="t.one" time="1.25" status="run"/>
<testcase name="t.two" time="2.5" status="run"/></testsuite>
XML
[[ ${CTEST_FAILS:-} == "$preset" ]] && exit 8
exit 0
""",
}


class HarnessTimingsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name) / "checkout"
        (self.root / "testing").mkdir(parents=True)
        (self.root / "dashboard" / "node_modules").mkdir(parents=True)
        shutil.copy(REPO / "harness", self.root / "harness")
        shutil.copy(REPO / "CMakeLists.txt", self.root / "CMakeLists.txt")
        for name in ("timings.py", "result_files.py"):
            shutil.copy(REPO / "testing" / name, self.root / "testing" / name)
        (self.root / "dashboard" / "package-lock.json").write_text("{}")
        os.utime(self.root / "dashboard" / "package-lock.json", (1, 1))
        (self.root / "dashboard" / "node_modules" / ".package-lock.json").write_text("{}")
        bin_dir = Path(self.tmp.name) / "bin"
        bin_dir.mkdir()
        for name, text in STUBS.items():
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(stat.S_IRWXU)
        self.results = Path(self.tmp.name) / "results"
        self.env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
                    "PINSPLIT_RESULTS": str(self.results), "PINSPLIT_GIT_REVISION": "abc1234"}

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def harness(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(self.root / "harness"), *args], capture_output=True,
                              text=True, env={**self.env, **env}, timeout=120)

    def record(self) -> dict:
        files = list((self.results / "timings").iterdir())
        self.assertEqual(len(files), 1, f"one record and no leftovers: {files}")
        return json.loads(files[0].read_text())

    def test_records_every_phase_with_the_ctest_labels(self) -> None:
        result = self.harness("test", "--timings")
        self.assertEqual(result.returncode, 0, result.stderr)
        doc = self.record()
        self.assertEqual((doc["kind"], doc["command"], doc["status"]), ("timings", "test", 0))
        self.assertEqual(doc["run"]["git_revision"], "abc1234")
        self.assertEqual([p["name"] for p in doc["phases"]],
                         ["packages", "configure asan", "build asan", "ctest asan",
                          "configure tsan", "build tsan (stress)", "ctest tsan -L stress"])
        self.assertTrue(all(p["status"] == 0 and p["seconds"] >= 0 for p in doc["phases"]))
        self.assertGreaterEqual(doc["phases"][2]["seconds"], 0.2)  # the stand-in build sleeps
        self.assertEqual(doc["phases"][3]["ctest"]["labels"], [
            {"label": "stress", "tests": 1, "test_seconds": 2.5},
            {"label": "unit", "tests": 1, "test_seconds": 1.2}])
        self.assertEqual(doc["conditions"]["fresh_build_dirs"], ["asan", "tsan"])
        self.assertEqual(doc["conditions"]["packages_installed_during_run"], [])
        self.assertGreaterEqual(doc["total_seconds"],
                                sum(p["seconds"] for p in doc["phases"] if p["depth"] == 0) - 0.5)

    def test_failing_asan_tests_still_run_the_storms_and_leave_the_record(self) -> None:
        result = self.harness("test", "--timings", CTEST_FAILS="asan")
        self.assertEqual(result.returncode, 8, result.stderr)
        doc = self.record()
        self.assertEqual(doc["status"], 8)
        ctest = {p["name"]: p for p in doc["phases"] if p["name"].startswith("ctest")}
        self.assertEqual(ctest["ctest asan"]["status"], 8)
        self.assertEqual(ctest["ctest asan"]["ctest"]["tests"], 2)
        # The storms still ran, and passed; the run exits with the asan failure.
        self.assertEqual(ctest["ctest tsan -L stress"]["status"], 0)

    def test_a_failed_build_ends_the_run_and_its_open_phase(self) -> None:
        result = self.harness("test", "--timings", BUILD_FAILS="tsan")
        self.assertEqual(result.returncode, 3, result.stderr)
        doc = self.record()
        self.assertEqual(doc["status"], 3)
        self.assertEqual(doc["phases"][-1]["name"], "build tsan (stress)")
        self.assertEqual(doc["phases"][-1]["status"], 3)

    def test_no_record_without_the_flag(self) -> None:
        result = self.harness("test")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse((self.results / "timings").exists())


if __name__ == "__main__":
    unittest.main()
