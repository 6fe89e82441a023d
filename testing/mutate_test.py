# SPDX-License-Identifier: MIT
"""Tests of mutate.py (./harness mutate) on a small fake tree, with stand-in build and test
commands: verdicts, the result file, bad input, and above all that the tree is restored byte for
byte however a mutant ends (a failed build, an interrupted run, SIGTERM, a run killed outright)."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import mutate

HERE = Path(__file__).resolve().parent
SOURCE = "int add(int a, int b) { return a + b; }\nbool small(int x) { return x < 10; }\n"


class FakeTree(unittest.TestCase):
    """A tree with one source file and a list of two mutants in one area."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.root = Path(self.dir.name)
        self.tree = self.root / "tree"
        (self.tree / "core").mkdir(parents=True)
        self.source = self.tree / "core" / "math.cc"
        self.source.write_text(SOURCE)
        self.list = self.root / "mutations.json"
        self.write_list([
            {"id": "plus", "area": "math", "file": "core/math.cc", "kind": "operator",
             "find": "a + b", "replace": "a - b", "why": "adds wrong"},
            {"id": "less", "area": "math", "file": "core/math.cc", "kind": "operator",
             "find": "x < 10", "replace": "x <= 10", "why": "an edge"},
        ])

    def write_list(self, mutants, areas=None):
        self.list.write_text(json.dumps({
            "areas": areas or {"math": {"targets": ["math_test"], "tests": "^math"}},
            "mutants": mutants}))

    def run_tool(self, *extra, test_command="true", build_command="true"):
        return subprocess.run(
            [sys.executable, str(HERE / "mutate.py"), "--in-place", "--source", str(self.tree),
             "--list", str(self.list), "--build-dir", str(self.root / "build"),
             "--output", str(self.root / "out.json"), "--build-command", build_command,
             "--test-command", test_command, *extra],
            capture_output=True, text=True, timeout=120)

    def script(self, name, body):
        """A stand-in command: a Python script in the temp folder, run by this interpreter."""
        path = self.root / name
        path.write_text(f"import pathlib, sys, time\nSOURCE = pathlib.Path({str(self.source)!r})\n"
                        + body)
        return f"{sys.executable} {path}"

    def assert_restored(self):
        self.assertEqual(self.source.read_text(), SOURCE)
        self.assertFalse((self.root / "build" / "state" / "journal.json").exists())


class VerdictTest(FakeTree):

    def test_a_test_that_fails_kills_and_one_that_passes_leaves_a_survivor(self):
        # The stand-in test fails exactly when the addition was mutated.
        check = f"grep -q 'a + b' {self.source}"
        result = self.run_tool(test_command=check)
        self.assertEqual(result.returncode, 1, result.stderr)  # one survived
        document = json.loads((self.root / "out.json").read_text())
        self.assertEqual(document["kind"], "mutation")
        self.assertEqual(document["seed"], 1)
        for key in ("id", "started", "git_revision", "version", "host", "cpus"):
            self.assertIn(key, document["run"])
        outcomes = {m["id"]: m["outcome"] for m in document["mutants"]}
        self.assertEqual(outcomes, {"plus": "killed", "less": "survived"})
        self.assertEqual(document["areas"], [{"area": "math", "mutants": 2, "killed": 1,
                                              "survived": 1, "invalid": 0, "kill_rate": 0.5}])
        self.assertEqual([m["line"] for m in document["mutants"]], [1, 2])
        self.assertIn("less: core/math.cc:2", result.stdout)  # the survivor, where it is
        self.assert_restored()

    def test_mutant_picks_one_by_id(self):
        check = f"grep -q 'a + b' {self.source}"
        result = self.run_tool("--mutant", "less", test_command=check)
        document = json.loads((self.root / "out.json").read_text())
        self.assertEqual([m["id"] for m in document["mutants"]], ["less"])
        self.assertEqual(result.returncode, 1)
        self.assert_restored()

    def test_every_mutant_killed_exits_zero(self):
        check = self.script("unchanged.py", f"sys.exit(SOURCE.read_text() != {SOURCE!r})\n")
        result = self.run_tool(test_command=check)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads((self.root / "out.json").read_text())["kill_rate"], 1.0)
        self.assert_restored()

    def test_a_mutant_that_does_not_build_is_invalid_and_left_out_of_the_rate(self):
        # The stand-in build fails once the file is mutated (the baseline builds).
        build = f"grep -q 'a + b' {self.source}"
        check = self.script("unchanged.py", f"sys.exit(SOURCE.read_text() != {SOURCE!r})\n")
        result = self.run_tool(build_command=build, test_command=check)
        document = json.loads((self.root / "out.json").read_text())
        outcomes = {m["id"]: m["outcome"] for m in document["mutants"]}
        self.assertEqual(outcomes, {"plus": "invalid", "less": "killed"})
        self.assertEqual(document["areas"][0]["kill_rate"], 1.0)
        self.assertEqual(result.returncode, 0)
        self.assert_restored()


class RestoreTest(FakeTree):

    def interrupt_while_testing(self, sig):
        """Starts a run whose stand-in test waits; once the mutant is on disk, sends SIG."""
        started = self.root / "testing"
        # The baseline passes at once; on a mutant the stand-in test says so and waits.
        test = self.script("wait.py", f"""
text = SOURCE.read_text()
if text == {SOURCE!r}:
    sys.exit(0)
pathlib.Path({str(started)!r}).write_text(text)
time.sleep(60)
""")
        process = subprocess.Popen(
            [sys.executable, str(HERE / "mutate.py"), "--in-place", "--source", str(self.tree),
             "--list", str(self.list), "--build-dir", str(self.root / "build"),
             "--output", str(self.root / "out.json"), "--build-command", "true",
             "--test-command", test],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(started.exists(), "the mutant's test never started")
        self.assertNotEqual(started.read_text(), SOURCE, "the test ran on the mutant")
        self.assertNotEqual(self.source.read_text(), SOURCE)
        os.kill(process.pid, sig)
        out, err = process.communicate(timeout=60)
        return process.returncode, out, err

    def test_ctrl_c_restores_the_tree_and_writes_what_finished(self):
        code, out, err = self.interrupt_while_testing(signal.SIGINT)
        self.assertEqual(code, 130, err)
        self.assert_restored()
        document = json.loads((self.root / "out.json").read_text())
        self.assertTrue(document["interrupted"])

    def test_sigterm_restores_the_tree(self):
        code, out, err = self.interrupt_while_testing(signal.SIGTERM)
        self.assertEqual(code, 130, err)
        self.assert_restored()

    def test_a_failing_build_restores_the_tree(self):
        areas, mutants = mutate.load_list(self.list, self.tree)
        journal = mutate.Journal(self.root / "state")
        runner = mutate.Runner(self.tree, self.root / "build", 1, 10, build_command="false",
                               test_command="true")
        outcome, line = mutate.judge(mutants[0], areas["math"], runner, self.tree, journal)
        self.assertEqual((outcome.status, line), ("invalid", 1))
        self.assertEqual(self.source.read_text(), SOURCE)

    def test_an_exception_inside_a_mutant_restores_the_tree(self):
        areas, mutants = mutate.load_list(self.list, self.tree)
        journal = mutate.Journal(self.root / "state")

        class Exploding(mutate.Runner):
            def test(self, area):
                raise RuntimeError("the test runner crashed")

        runner = Exploding(self.tree, self.root / "build", 1, 10, "true", "true")
        with self.assertRaises(RuntimeError):
            mutate.judge(mutants[1], areas["math"], runner, self.tree, journal)
        self.assertEqual(self.source.read_text(), SOURCE)
        self.assertFalse(journal.path.exists())

    def test_a_run_killed_outright_is_repaired_by_the_next(self):
        journal = mutate.Journal(self.root / "build" / "state")
        journal.begin(self.source, SOURCE.encode())
        self.source.write_text(SOURCE.replace("a + b", "a - b"))  # and then SIGKILL
        result = self.run_tool(test_command=f"grep -q 'a + b' {self.source}")
        self.assertIn("left mutated by an interrupted run", result.stderr)
        self.assert_restored()


class BadInputTest(FakeTree):

    def assert_bad(self, needle, **kwargs):
        result = self.run_tool(**kwargs)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn(needle, result.stderr)
        self.assertFalse((self.root / "out.json").exists())
        self.assert_restored()

    def test_a_text_that_is_not_exactly_once_in_its_file(self):
        self.write_list([{"id": "x", "area": "math", "file": "core/math.cc", "kind": "operator",
                          "find": "int", "replace": "long"}])
        self.assert_bad("occurs 4 times")

    def test_an_unknown_area_and_a_bad_kind(self):
        self.write_list([{"id": "x", "area": "nope", "file": "core/math.cc", "kind": "operator",
                          "find": "a + b", "replace": "a - b"}])
        self.assert_bad("unknown area")
        self.write_list([{"id": "x", "area": "math", "file": "core/math.cc", "kind": "typo",
                          "find": "a + b", "replace": "a - b"}])
        self.assert_bad("kind must be one of")

    def test_a_list_that_is_not_json_says_where(self):
        self.list.write_text('{"areas": {},\n "mutants": [,]}')
        self.assert_bad("line 2, column")

    def test_a_tree_that_fails_its_tests_unmutated(self):
        self.assert_bad("fails its tests unmutated", test_command="false")

    def test_an_unknown_mutant_id(self):
        result = self.run_tool("--mutant", "nope")
        self.assertEqual(result.returncode, 2)
        self.assertIn("no mutant 'nope'", result.stderr)
        self.assert_restored()

    def test_bad_flags(self):
        result = self.run_tool("--limit", "0")
        self.assertEqual(result.returncode, 2)
        self.assertIn("must be positive", result.stderr)


class ShippedListTest(unittest.TestCase):

    def test_the_shipped_list_applies_to_this_checkout(self):
        areas, mutants = mutate.load_list(HERE / "mutations.json", HERE.parent)
        self.assertGreaterEqual(len(mutants), 20)
        self.assertEqual({m.area for m in mutants}, set(areas))
        self.assertTrue(all(m.file.startswith(("core/", "budget/")) for m in mutants))
        self.assertEqual({m.kind for m in mutants}, set(mutate.KINDS))


if __name__ == "__main__":
    unittest.main()
