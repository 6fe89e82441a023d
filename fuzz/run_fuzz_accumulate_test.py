# SPDX-License-Identifier: MIT
"""Tests of run_fuzz.py's accumulating corpora and time to first crash (no libFuzzer: a stand-in
script plays its -merge=1)."""

import argparse
import os
import stat
import tempfile
import unittest
from pathlib import Path

import run_fuzz

# Plays `FUZZER -merge=1 -artifact_prefix=P OUT IN...`: copies every input file of the IN
# folders into OUT, one per distinct content, as a minimising merge keeps one per feature set.
# Exits 3 without touching anything when MERGE_FAILS is set.
FAKE_FUZZER = """#!/usr/bin/env python3
import hashlib, os, sys
from pathlib import Path
if os.environ.get("MERGE_FAILS"):
    sys.exit(3)
args = [a for a in sys.argv[1:] if not a.startswith("-")]
out, inputs = Path(args[0]), [Path(a) for a in args[1:]]
seen = set()
for folder in inputs:
    for f in sorted(folder.iterdir()):
        data = f.read_bytes()
        if data in seen:
            continue
        seen.add(data)
        (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
"""


def make_run(policy="split", expect=False, from_seeds=True):
    return run_fuzz.TargetRun("mm_ops", policy, {}, [], expect, from_seeds=from_seeds)


class AccumulateTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.root = Path(self.dir.name)
        self.fuzzer = self.root / "fake_fuzzer"
        self.fuzzer.write_text(FAKE_FUZZER)
        self.fuzzer.chmod(self.fuzzer.stat().st_mode | stat.S_IEXEC)

    def test_each_target_and_policy_has_its_own_persistent_corpus(self):
        corpus = self.root / "corpus"
        self.assertEqual(run_fuzz.persistent_corpus(corpus, make_run("split")),
                         corpus / "mm_ops-split")
        plain = run_fuzz.TargetRun("refcount_ops", None, {}, [], False)
        self.assertEqual(run_fuzz.persistent_corpus(corpus, plain), corpus / "refcount_ops")

    def test_a_run_starts_from_the_persistent_corpus_and_the_seeds_unless_from_no_seeds(self):
        fuzz_dir = self.root / "build" / "fuzz"
        (fuzz_dir / "corpus" / "mm_ops").mkdir(parents=True)
        corpus, out = self.root / "corpus", self.root / "out"
        scratch, inputs = run_fuzz.corpus_dirs(make_run(), fuzz_dir, corpus, out)
        self.assertEqual(inputs, [corpus / "mm_ops-split", fuzz_dir / "corpus" / "mm_ops"])
        self.assertTrue(scratch.is_dir())
        self.assertFalse(any(scratch.iterdir()))
        scratch, inputs = run_fuzz.corpus_dirs(make_run(from_seeds=False), fuzz_dir, corpus, out)
        self.assertEqual(inputs, [])
        self.assertNotIn(corpus, scratch.parents)  # a run from nothing reads no corpus

    def test_new_inputs_are_merged_into_the_persistent_corpus_which_grows(self):
        corpus = self.root / "corpus"
        persistent = corpus / "mm_ops-split"
        persistent.mkdir(parents=True)
        (persistent / "old").write_bytes(b"old input")
        scratch = self.root / "scratch"
        scratch.mkdir()
        (scratch / "a").write_bytes(b"new input")
        (scratch / "b").write_bytes(b"old input")  # nothing new: kept once
        run_fuzz.merge_corpus(make_run(), self.fuzzer, corpus, scratch)
        contents = sorted(f.read_bytes() for f in persistent.iterdir())
        self.assertEqual(contents, [b"new input", b"old input"])
        self.assertEqual(sorted(p.name for p in corpus.iterdir()), ["mm_ops-split"])

    def test_a_failed_merge_leaves_the_persistent_corpus_as_it_was(self):
        corpus = self.root / "corpus"
        persistent = corpus / "mm_ops-split"
        persistent.mkdir(parents=True)
        (persistent / "old").write_bytes(b"old input")
        scratch = self.root / "scratch"
        scratch.mkdir()
        (scratch / "a").write_bytes(b"new input")
        os.environ["MERGE_FAILS"] = "1"
        try:
            run_fuzz.merge_corpus(make_run(), self.fuzzer, corpus, scratch)
        finally:
            del os.environ["MERGE_FAILS"]
        self.assertEqual([f.name for f in persistent.iterdir()], ["old"])
        self.assertEqual(sorted(p.name for p in corpus.iterdir()), ["mm_ops-split"])

    def test_time_to_first_crash_is_the_earliest_artifact_after_the_start(self):
        artifacts = self.root / "artifacts"
        artifacts.mkdir()
        self.assertIsNone(run_fuzz.first_crash_seconds(artifacts, 1000.0))
        (artifacts / "libfuzzer.log").write_text("not a crash")
        for name, when in (("crash-b", 1012.5), ("crash-a", 1004.25), ("leak-c", 1030.0)):
            path = artifacts / name
            path.write_bytes(b"x")
            os.utime(path, (when, when))
        self.assertEqual(run_fuzz.first_crash_seconds(artifacts, 1000.0), 4.25)

    def test_the_targets_that_must_crash_also_run_from_no_seeds(self):
        args = argparse.Namespace()
        runs = run_fuzz.plan(args, ["mm_ops", "refcount_ops"])
        no_seeds = [(r.target, r.policy) for r in runs if not r.from_seeds]
        self.assertEqual(no_seeds, [("mm_ops", "mapcount"), ("mm_ops", "refcount")])
        self.assertTrue(all(r.expect_crashes for r in runs if not r.from_seeds))
        self.assertEqual(len({r.label() for r in runs}), len(runs))

    def test_one_policy_of_a_target_runs_alone(self):
        args = argparse.Namespace()
        runs = run_fuzz.plan(args, ["mm_ops[split]", "interleave"])
        self.assertEqual([(r.target, r.policy) for r in runs],
                         [("mm_ops", "split"), ("interleave", None)])
        # A policy whose known bugs must be found keeps its from-no-seeds row.
        runs = run_fuzz.plan(args, ["mm_ops[mapcount]"])
        self.assertEqual([r.from_seeds for r in runs], [True, False])

    def test_a_bad_target_spec_is_a_usage_error(self):
        for spec in ("mm_ops[ideal", "mm_ops[nope]", "interleave[split]", "a b"):
            with self.assertRaises(run_fuzz.UsageError, msg=spec):
                run_fuzz.plan(argparse.Namespace(), [spec])


class CrashClassTest(unittest.TestCase):
    """A crash counts as expected only under a policy that may crash, and only when its decoded
    script says every violation is one of the policy's known bug classes."""

    KNOWN = ("# mm_ops input, decoded under policy mapcount\n"
             "# crash: expected (every violation is a known bug class of mapcount)\n"
             "# violation: line 8: isolation: h0 of P1 read 7\n")
    NEW = ("# mm_ops input, decoded under policy mapcount\n"
           "# crash: unexpected (not a known bug class of mapcount: accounting)\n"
           "# violation: line 5: accounting: page 0 is in use but its counter is dead\n")

    def test_a_known_kind_under_a_policy_that_may_crash_is_expected(self):
        self.assertTrue(run_fuzz.crash_expected(make_run("mapcount", expect=True), self.KNOWN))

    def test_another_kind_under_a_policy_that_may_crash_is_unexpected(self):
        self.assertFalse(run_fuzz.crash_expected(make_run("mapcount", expect=True), self.NEW))

    def test_a_crash_that_would_not_decode_is_unexpected(self):
        failed = "(pinsplit decode failed with exit 2: boom)"
        self.assertFalse(run_fuzz.crash_expected(make_run("refcount", expect=True), failed))

    def test_any_crash_where_none_may_happen_is_unexpected(self):
        self.assertFalse(run_fuzz.crash_expected(make_run("split", expect=False), self.KNOWN))

    def test_one_unexpected_crash_among_expected_ones_fails_the_run(self):
        run = make_run("mapcount", expect=True)
        run.crashes = [{"file": "a", "decoded": self.KNOWN, "expected": True}]
        self.assertFalse(run_fuzz.any_unexpected([run]))
        self.assertIn("(expected)", run_fuzz.summary([run]))
        run.crashes.append({"file": "b", "decoded": self.NEW, "expected": False})
        self.assertTrue(run_fuzz.any_unexpected([run]))
        self.assertIn("UNEXPECTED: 1", run_fuzz.summary([run]))


class OptionsFileTest(unittest.TestCase):
    """TARGET.options (the OSS-Fuzz format) feeds libFuzzer's flags and ASan's settings."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.fuzz_dir = Path(self.dir.name)
        (self.fuzz_dir / "t.options").write_text(
            "[libfuzzer]\nmax_len = 64\ndict = t.dict\n[asan]\nquarantine_size_mb = 32\n")
        saved = os.environ.pop("ASAN_OPTIONS", None)
        if saved is not None:
            self.addCleanup(os.environ.__setitem__, "ASAN_OPTIONS", saved)
        else:
            self.addCleanup(os.environ.pop, "ASAN_OPTIONS", None)

    def test_libfuzzer_flags_come_from_their_section_with_the_dictionary_made_absolute(self):
        self.assertEqual(run_fuzz.libfuzzer_options(self.fuzz_dir, "t"),
                         ["-max_len=64", f"-dict={self.fuzz_dir / 't.dict'}"])
        self.assertEqual(run_fuzz.libfuzzer_options(self.fuzz_dir, "missing"), [])

    def test_asan_settings_follow_leak_checks_and_the_callers_own_come_last(self):
        self.assertEqual(run_fuzz.asan_options(self.fuzz_dir, "t"),
                         "detect_leaks=1:quarantine_size_mb=32")
        self.assertEqual(run_fuzz.asan_options(self.fuzz_dir, "missing"), "detect_leaks=1")
        os.environ["ASAN_OPTIONS"] = "quarantine_size_mb=256:detect_leaks=0"
        self.assertEqual(run_fuzz.asan_options(self.fuzz_dir, "t"),
                         "detect_leaks=1:quarantine_size_mb=32:quarantine_size_mb=256:detect_leaks=0")

    def test_the_shipped_targets_keep_a_small_quarantine(self):
        shipped = Path(__file__).resolve().parent
        for options in sorted(shipped.glob("*.options")):
            with self.subTest(options.name):
                self.assertIn("quarantine_size_mb=32",
                              run_fuzz.asan_options(shipped, options.stem).split(":"))


if __name__ == "__main__":
    unittest.main()
