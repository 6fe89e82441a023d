# SPDX-License-Identifier: MIT
"""Tests of bench/report.py on hand-made Google Benchmark JSON (no timing involved)."""

import io
import json
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import report


def entry(name, rate, threads=1, repetition=0, repetitions=1, **extra):
    run_name = f"{name}/real_time/threads:{threads}"
    return {"name": run_name, "run_name": run_name, "run_type": "iteration",
            "repetitions": repetitions, "repetition_index": repetition, "threads": threads,
            "iterations": 1000, "real_time": 1.0, "cpu_time": 1.0, "time_unit": "ns",
            "items_per_second": rate, **extra}


def raw_json(benchmarks, cpus=2):
    return {"context": {"date": "2026-11-25T08:20:00+01:00", "host_name": "box",
                        "num_cpus": cpus, "library_build_type": "release",
                        "pinsplit_compiler": "Clang 14.0.6", "pinsplit_flags": "-O3 -DNDEBUG",
                        "pinsplit_build_dir": "/src/build/release",
                        "pinsplit_bench_cpus": str(cpus)},
            "benchmarks": benchmarks}


class ReportTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.root = Path(self.dir.name)

    def run_report(self, raw, *flags):
        source = self.root / "raw.json"
        source.write_text(raw if isinstance(raw, str) else json.dumps(raw))
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = report.main([str(source), "--output", str(self.root / "out" / "r.json"),
                                "--git-revision", "abc1234", *flags])
        return code, out.getvalue(), err.getvalue()

    def result(self):
        return json.loads((self.root / "out" / "r.json").read_text())

    def test_pairs_each_benchmark_with_its_plain_twin(self):
        code, _, _ = self.run_report(raw_json([
            entry("BM_GetPut/plain/uncontended", 100.0),
            entry("BM_GetPut/split/uncontended", 98.0),
            entry("BM_GetPut/plain/uncontended", 200.0, threads=2),
            entry("BM_GetPut/split/uncontended", 150.0, threads=2),
        ]))
        self.assertEqual(code, 0)
        ratios = {(r["scheme"], r["threads"]): r for r in self.result()["ratios"]}
        self.assertAlmostEqual(ratios[("split", 1)]["ratio_to_plain"], 0.98)
        self.assertAlmostEqual(ratios[("split", 2)]["ratio_to_plain"], 0.75)
        self.assertEqual(ratios[("split", 2)]["plain_items_per_second"], 200.0)
        self.assertEqual(ratios[("plain", 1)]["ratio_to_plain"], 1.0)
        self.assertEqual(ratios[("split", 1)]["operation"], "get_put")
        self.assertEqual(ratios[("split", 1)]["mode"], "uncontended")

    def test_keeps_google_benchmark_output_untouched_and_records_the_run(self):
        raw = raw_json([entry("BM_GetPut/plain/uncontended", 100.0)])
        self.run_report(raw)
        result = self.result()
        self.assertEqual(result["kind"], "bench")
        self.assertEqual(result["context"], raw["context"])
        self.assertEqual(result["benchmarks"], raw["benchmarks"])
        self.assertEqual(result["run"]["git_revision"], "abc1234")
        # The project's version, as CMakeLists.txt's project() line sets it.
        self.assertRegex(result["run"]["version"], r"^[0-9]+\.[0-9]+\.[0-9]+$")
        self.assertEqual(result["run"]["version"], report.project_version())
        self.assertEqual(result["run"]["started"], "2026-11-25T07:20:00Z")
        self.assertEqual(result["run"]["id"], "2026-11-25T07-20-00Z-abc1234")
        self.assertEqual(result["run"]["preset"], "release")
        self.assertEqual(result["run"]["compiler"], "Clang 14.0.6")
        self.assertEqual(result["run"]["cpus"], 2)

    def test_a_benchmark_without_a_plain_twin_gets_a_null_ratio(self):
        self.run_report(raw_json([entry("BM_ForkPerPage/mapcount/uncontended", 5.0)]))
        (ratio,) = self.result()["ratios"]
        self.assertIsNone(ratio["ratio_to_plain"])
        self.assertEqual(ratio["operation"], "fork_per_page")

    def test_harness_speeds_are_listed_apart_with_their_parameters(self):
        code, out, _ = self.run_report(raw_json([
            entry("BM_GetPut/plain/uncontended", 100.0),
            entry("BM_Harness/mm_ops/seeds/policy:split", 40.0, repetition=0, repetitions=2),
            entry("BM_Harness/mm_ops/seeds/policy:split", 60.0, repetition=1, repetitions=2),
            entry("BM_Harness/refcount_ops/seeds", 900.0),
        ]))
        self.assertEqual(code, 0)
        harness = self.result()["harness"]
        self.assertEqual([h["engine"] for h in harness], ["mm_ops", "refcount_ops"])
        self.assertEqual(harness[0]["params"], {"policy": "split"})
        self.assertEqual(harness[0]["mode"], "seeds")
        self.assertEqual(harness[0]["items_per_second"], 50.0)
        self.assertEqual(harness[0]["repetitions"], 2)
        self.assertEqual(harness[1]["params"], {})
        self.assertIn("Harness speed", out)

    def test_no_harness_benchmarks_leave_an_empty_list(self):
        self.run_report(raw_json([entry("BM_GetPut/plain/uncontended", 100.0)]))
        self.assertEqual(self.result()["harness"], [])

    def test_uses_the_median_of_repetitions_and_ignores_aggregates(self):
        benchmarks = [entry("BM_GetPut/plain/uncontended", r, repetition=i, repetitions=3)
                      for i, r in enumerate([100.0, 300.0, 120.0])]
        benchmarks += [entry("BM_GetPut/split/uncontended", r, repetition=i, repetitions=3)
                       for i, r in enumerate([60.0, 60.0, 1.0])]
        mean = entry("BM_GetPut/plain/uncontended", 9e9)
        mean.update(run_type="aggregate", aggregate_name="mean",
                    name=mean["name"] + "_mean")
        self.run_report(raw_json(benchmarks + [mean]))
        ratios = {r["scheme"]: r for r in self.result()["ratios"]}
        self.assertEqual(ratios["plain"]["items_per_second"], 120.0)
        self.assertEqual(ratios["plain"]["repetitions"], 3)
        self.assertAlmostEqual(ratios["split"]["ratio_to_plain"], 0.5)

    def test_keeps_registration_order_when_repetitions_were_interleaved(self):
        def at(name, rate, family, repetition):
            return entry(name, rate, repetition=repetition, repetitions=2, family_index=family,
                         per_family_instance_index=0)
        self.run_report(raw_json([
            at("BM_GetPut/split/uncontended", 9.0, 1, 0),
            at("BM_GetPut/plain/uncontended", 10.0, 0, 0),
            at("BM_GetPut/plain/uncontended", 10.0, 0, 1),
            at("BM_GetPut/split/uncontended", 9.0, 1, 1),
        ]))
        self.assertEqual([r["scheme"] for r in self.result()["ratios"]], ["plain", "split"])

    def test_marks_thread_counts_above_the_cpus_oversubscribed(self):
        self.run_report(raw_json([
            entry("BM_GetPut/plain/contended", 100.0, threads=2),
            entry("BM_GetPut/plain/contended", 100.0, threads=3),
        ], cpus=2))
        flags = {r["threads"]: r["oversubscribed"] for r in self.result()["ratios"]}
        self.assertEqual(flags, {2: False, 3: True})

    def test_targets_report_met_and_unmet_from_the_fitting_thread_counts(self):
        benchmarks = []
        for threads in (1, 2, 4):
            benchmarks += [
                entry("BM_GetPut/plain/uncontended", 100.0, threads=threads),
                entry("BM_GetPut/split/uncontended", 99.0, threads=threads),
                entry("BM_PinUnpinRead/split/uncontended", 80.0, threads=threads),
                entry("BM_GetPut/plain/contended", 100.0, threads=threads),
                # Oversubscribed counts must not drag a target down.
                entry("BM_GetPut/split/contended", 10.0 if threads == 4 else 96.0,
                      threads=threads),
                entry("BM_GetPut/cas_split/contended", 40.0, threads=threads),
                # The hardware's own ratio on this machine: a fetch_add pair is 3x a CAS loop.
                entry("BM_GetPut/raw_fetch_add/contended", 120.0, threads=threads),
                entry("BM_GetPut/raw_cas_loop/contended", 40.0, threads=threads),
            ]
        code, out, _ = self.run_report(raw_json(benchmarks, cpus=2))
        self.assertEqual(code, 0)  # targets are reported, never asserted
        targets = {t["name"]: t for t in self.result()["targets"]}
        self.assertAlmostEqual(targets["split get/put uncontended"]["measured"], 0.99)
        self.assertTrue(targets["split get/put uncontended"]["met"])
        self.assertEqual(targets["split get/put uncontended"]["threads"], [1, 2])
        self.assertAlmostEqual(targets["split get/put contended"]["measured"], 0.96)
        self.assertFalse(targets["split get/put contended"]["met"])
        self.assertEqual(targets["split get/put contended"]["threads"], [2])
        self.assertAlmostEqual(targets["split pin/unpin (read) uncontended"]["measured"], 0.8)
        self.assertFalse(targets["split pin/unpin (read) uncontended"]["met"])
        # split keeps 2.4x over cas_split where the bare word gets 3x: 0.8 of the hardware's.
        share = targets[report.HARDWARE_SHARE_TARGET]
        self.assertAlmostEqual(share["measured"], 0.8)
        self.assertFalse(share["met"])
        self.assertEqual(share["threads"], [2])
        self.assertAlmostEqual(share["raw"]["split_vs_cas_split"], 2.4)
        self.assertAlmostEqual(share["raw"]["raw_fetch_add_vs_raw_cas_loop"], 3.0)
        self.assertRegex(out, r"split_vs_cas_split 2.400x; raw_fetch_add_vs_raw_cas_loop 3.000x")
        self.assertIsNone(targets["split pin/unpin (write) contended"]["measured"])
        self.assertIsNone(targets["split pin/unpin (write) contended"]["met"])
        self.assertRegex(out, r"split get/put uncontended\s+>= 0.97x plain\s+0.990x\s+1,2\s+MET")
        self.assertRegex(out, r"split get/put contended\s+>= 0.97x plain\s+0.960x\s+2\s+NOT MET")

    def test_the_hardware_share_is_taken_per_thread_count_and_needs_the_raw_pairs(self):
        benchmarks = []
        for threads, (split, cas, fast, slow) in ((2, (90.0, 30.0, 100.0, 50.0)),
                                                  (3, (10.0, 10.0, 10.0, 10.0))):
            benchmarks += [entry("BM_GetPut/split/contended", split, threads=threads),
                           entry("BM_GetPut/cas_split/contended", cas, threads=threads),
                           entry("BM_GetPut/raw_fetch_add/contended", fast, threads=threads),
                           entry("BM_GetPut/raw_cas_loop/contended", slow, threads=threads)]
        self.run_report(raw_json(benchmarks, cpus=4))
        share = {t["name"]: t for t in self.result()["targets"]}[report.HARDWARE_SHARE_TARGET]
        # Thread count 2: 3x / 2x = 1.5; thread count 3: 1x / 1x = 1; geometric mean sqrt(1.5).
        self.assertAlmostEqual(share["ratio_by_threads"]["2"], 1.5)
        self.assertAlmostEqual(share["measured"], 1.5 ** 0.5)
        self.assertTrue(share["met"])
        # Without the raw pairs the share cannot be measured, even though split/cas_split can.
        self.run_report(raw_json(benchmarks[:2], cpus=4))
        share = {t["name"]: t for t in self.result()["targets"]}[report.HARDWARE_SHARE_TARGET]
        self.assertIsNone(share["measured"])
        self.assertIsNone(share["met"])
        self.assertEqual(share["raw"], {"split_vs_cas_split": None,
                                        "raw_fetch_add_vs_raw_cas_loop": None})

    def test_targets_record_each_repetition_for_their_spread(self):
        benchmarks = []
        for k, (plain, split) in enumerate(((100.0, 90.0), (100.0, 110.0), (200.0, 200.0))):
            benchmarks += [entry("BM_GetPut/plain/uncontended", plain, repetition=k,
                                 repetitions=3),
                           entry("BM_GetPut/split/uncontended", split, repetition=k,
                                 repetitions=3)]
        self.run_report(raw_json(benchmarks, cpus=1))
        target = {t["name"]: t for t in self.result()["targets"]}["split get/put uncontended"]
        self.assertEqual([round(v, 6) for v in target["by_repetition"]], [0.9, 1.1, 1.0])
        self.assertAlmostEqual(target["measured"], 1.1)  # the ratio of the medians, 110 / 100
        self.run_report(raw_json(benchmarks[:2], cpus=1))
        target = {t["name"]: t for t in self.result()["targets"]}["split get/put uncontended"]
        self.assertEqual(target["by_repetition"], [])  # one repetition has no spread

    def test_targets_use_the_geometric_mean_over_thread_counts(self):
        self.run_report(raw_json([
            entry("BM_GetPut/plain/uncontended", 100.0, threads=1),
            entry("BM_GetPut/split/uncontended", 50.0, threads=1),
            entry("BM_GetPut/plain/uncontended", 100.0, threads=2),
            entry("BM_GetPut/split/uncontended", 200.0, threads=2),
        ]))
        targets = {t["name"]: t for t in self.result()["targets"]}
        self.assertAlmostEqual(targets["split get/put uncontended"]["measured"], 1.0)

    def test_failed_benchmarks_are_listed_and_left_out(self):
        failed = entry("BM_GetPut/split/uncontended", 0.0)
        failed.update(error_occurred=True, error_message="try_pin refused a live counter")
        code, out, _ = self.run_report(raw_json([entry("BM_GetPut/plain/uncontended", 1.0),
                                                 failed]))
        self.assertEqual(code, 0)
        self.assertIn("try_pin refused a live counter", out)
        self.assertEqual([r["scheme"] for r in self.result()["ratios"]], ["plain"])

    def test_bad_input_names_the_file_and_exits_2(self):
        for text, why in (("", "empty file"), ("{not json", "not JSON"),
                          ('{"context": {}}', "'benchmarks'"),
                          (json.dumps(raw_json([])), "no benchmark")):
            with self.subTest(why=why):
                code, _, err = self.run_report(text)
                self.assertEqual(code, 2)
                self.assertIn(str(self.root / "raw.json"), err)
                self.assertIn(why, err)
                self.assertFalse((self.root / "out" / "r.json").exists())

    def test_a_missing_input_exits_2(self):
        err = io.StringIO()
        with redirect_stderr(err):
            code = report.main([str(self.root / "absent.json"), "--output-dir", str(self.root)])
        self.assertEqual(code, 2)
        self.assertIn("absent.json: cannot read", err.getvalue())

    def test_writes_atomically_leaving_no_temp_file(self):
        self.run_report(raw_json([entry("BM_GetPut/plain/uncontended", 1.0)]))
        self.assertEqual([p.name for p in (self.root / "out").iterdir()], ["r.json"])

    def test_output_dir_names_the_file_after_the_run(self):
        source = self.root / "raw.json"
        source.write_text(json.dumps(raw_json([entry("BM_GetPut/plain/uncontended", 1.0)])))
        with redirect_stdout(io.StringIO()):
            report.main([str(source), "--output-dir", str(self.root / "runs"), "--git-revision",
                         "abc1234"])
        self.assertTrue((self.root / "runs" / "2026-11-25T07-20-00Z-abc1234.json").exists())


if __name__ == "__main__":
    unittest.main()
