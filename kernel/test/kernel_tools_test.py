# SPDX-License-Identifier: GPL-2.0-only
"""The kernel trial's own tooling, without a kernel: layouts, the judging of
attacks, selftest totals, the boot runner's refusals, the CLI's exit codes,
and the semantic patches on small files written here for the purpose."""

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL = os.path.dirname(HERE)
sys.path.insert(0, KERNEL)

import build  # noqa: E402
import trial  # noqa: E402
import uml  # noqa: E402
from common import SPATCH, TrialError, result_files  # noqa: E402

SEED = (4, 4, 24)


def fields(ordinary=1, read=0, rw=0, saturated=False):
    return {"word": 0, "ordinary": ordinary, "read": read, "rw": rw, "saturated": saturated}


class LayoutTest(unittest.TestCase):
    def test_the_seed_and_the_wide_layout_parse(self):
        self.assertEqual(build.parse_layout("4/4/24"), SEED)
        self.assertEqual(build.parse_layout("8/8/16"), (8, 8, 16))
        self.assertEqual(build.variant_name("split", (8, 8, 16)), "split-8-8-16")
        self.assertEqual(build.variant_name("split", SEED), "split")

    def test_layouts_that_do_not_fill_32_bits_or_lack_room_are_refused(self):
        for bad in ("4/4/23", "4/4", "x/4/24", "0/8/24", "13/13/6", "4/4/24/0", ""):
            with self.assertRaises(TrialError, msg=bad):
                build.parse_layout(bad)


class JudgeTest(unittest.TestCase):
    def pin_attack(self, name, accepted, errno, at_max, after):
        return {"attack": name, "bound": 23, "accepted": accepted,
                "refused_at": accepted + 1 if errno else 0, "errno": errno,
                "before": fields(), "at_max": at_max, "after": after}

    def test_a_full_field_then_eagain_with_exact_fields_passes(self):
        doc = self.pin_attack("rw", 15, "EAGAIN", fields(rw=15), fields())
        checks = trial.judge_attack(doc, SEED, "split")
        self.assertTrue(all(ok for _, ok, _ in checks), checks)
        self.assertIn("refused (EAGAIN) at pin 16", doc["outcome"])

    def test_a_field_one_short_or_a_wrong_errno_or_a_leftover_pin_fails(self):
        for doc in (self.pin_attack("read", 14, "EAGAIN", fields(read=14), fields()),
                    self.pin_attack("read", 15, "ENOMEM", fields(read=15), fields()),
                    self.pin_attack("read", 15, "EAGAIN", fields(read=15), fields(read=1))):
            checks = trial.judge_attack(doc, SEED, "split")
            self.assertFalse(all(ok for _, ok, _ in checks), doc)

    def test_the_stock_kernel_is_described_not_judged(self):
        doc = self.pin_attack("rw", 23, "", None, None)
        doc.update(before=None)
        self.assertEqual(trial.judge_attack(doc, SEED, "stock"), [])
        self.assertIn("all 23 pins taken", doc["outcome"])

    def test_the_ordinary_attack_needs_saturation_and_exact_pins_beside_it(self):
        sat = 3 << 20
        good = {"attack": "ordinary", "refs_taken": 1 << 22, "rw_pin_while_held": 0,
                "held": fields(sat, saturated=True), "pinned_while_held": fields(sat, rw=1,
                                                                                 saturated=True),
                "after": fields(sat, saturated=True)}
        self.assertTrue(all(ok for _, ok, _ in trial.judge_attack(dict(good), SEED, "split")))
        overflowed = dict(good, held=fields(0, read=1))
        self.assertFalse(all(ok for _, ok, _ in trial.judge_attack(overflowed, SEED, "split")))
        refused = dict(good, rw_pin_while_held=-11)
        self.assertFalse(all(ok for _, ok, _ in trial.judge_attack(refused, SEED, "split")))


class SelftestTotalsTest(unittest.TestCase):
    def test_kselftest_totals_are_read(self):
        m = trial.TOTALS.search("ok 1 x\n# Totals: pass:23 fail:0 xfail:0 xpass:0 skip:14 "
                                "error:0\n")
        self.assertEqual(m.groups(), ("23", "0", "14", "0"))
        self.assertIsNone(trial.TOTALS.search("Bail out! no totals"))


class BootTest(unittest.TestCase):
    def test_a_missing_kernel_is_an_error_that_says_how_to_build_it(self):
        with self.assertRaisesRegex(TrialError, "--build-only"):
            uml.boot("/nonexistent/linux", ["true"])

    @staticmethod
    def fake_kernel(tmp, script):
        fake = os.path.join(tmp, "linux")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\n" + script)
        os.chmod(fake, 0o755)
        return fake

    def test_a_kernel_that_dies_without_a_status_is_an_error_not_a_hang(self):
        with tempfile.TemporaryDirectory() as tmp:
            fake = self.fake_kernel(tmp, "echo 'Kernel panic - not syncing: test'\nexit 1\n")
            with self.assertRaisesRegex(TrialError, "panicked"):
                uml.boot(fake, ["true"], timeout=10)

    def test_a_hang_is_stopped_at_the_timeout_with_its_processes(self):
        with tempfile.TemporaryDirectory() as tmp:
            fake = self.fake_kernel(tmp, "sleep 300 &\nsleep 300\n")
            with self.assertRaisesRegex(TrialError, "ran past 1 s"):
                uml.boot(fake, ["true"], timeout=1)
            left = subprocess.run(["pgrep", "-f", fake], capture_output=True, text=True)
            self.assertEqual(left.stdout.strip(), "", "processes of the fake guest remain")


class CliTest(unittest.TestCase):
    def run_main(self, *args):
        return subprocess.run([sys.executable, os.path.join(KERNEL, "main.py"), *args],
                              capture_output=True, text=True, check=False,
                              env=dict(os.environ, PINSPLIT_KERNEL_BUILD=tempfile.mkdtemp()))

    def test_bad_input_exits_2_with_a_message(self):
        for args in (["--layout=4/4/25"], ["--boot"], ["--only", "both"], ["--timeout=x"]):
            proc = self.run_main(*args)
            self.assertEqual(proc.returncode, 2, (args, proc.stderr))
            self.assertIn("error", proc.stderr)

    def test_boot_without_a_built_kernel_exits_2(self):
        proc = self.run_main("--boot", "true")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("not built", proc.stderr)

    def test_an_unwritable_out_is_refused_before_anything_is_built(self):
        with tempfile.TemporaryDirectory() as folder:
            # Without the early check, --skip-unbuilt would say "skipped" and exit 77.
            proc = self.run_main("--skip-unbuilt", f"--out={folder}")
            self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
            self.assertIn("it is a directory", proc.stderr)


class TrialResultTest(unittest.TestCase):
    """run_trial's ending: what it writes when interrupted, and where it cannot write."""

    def run_trial(self, out, measure):
        args = argparse.Namespace(out=out, mem="256M", no_costs=True)
        saved = trial.measure
        trial.measure = measure
        try:
            return trial.run_trial([], (4, 4, 24), args)
        finally:
            trial.measure = saved

    def test_ctrl_c_keeps_what_was_measured(self):
        def interrupted(doc, checks, kernels, records, layout, args):
            doc["kernels"]["stock"] = {"selftests": {"cow": {"pass": 23}}}
            checks.append(("stock: selftest cow has no failures", True, ""))
            raise KeyboardInterrupt
        with tempfile.TemporaryDirectory() as folder:
            out = os.path.join(folder, "trial.json")
            self.assertEqual(self.run_trial(out, interrupted), 130)
            with open(out) as f:
                doc = json.load(f)
        self.assertTrue(doc["interrupted"])
        self.assertEqual(doc["kernels"]["stock"]["selftests"]["cow"]["pass"], 23)
        self.assertEqual([c["check"] for c in doc["checks"]][0],
                         "stock: selftest cow has no failures")

    def test_a_full_device_is_an_output_error_and_is_not_replaced(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        with self.assertRaises(result_files.OutputError):
            self.run_trial("/dev/full", lambda *a: None)
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/full").st_mode))


@unittest.skipUnless(shutil.which("spatch"), "spatch (Debian coccinelle) is not installed")
class SemanticPatchTest(unittest.TestCase):
    """Each semantic patch on a small file shaped like the code it must find."""

    def spatch(self, cocci, name, text):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
            subprocess.run([*SPATCH, "--sp-file", os.path.join(KERNEL, "split", "cocci", cocci),
                            "--in-place", name], cwd=tmp, check=True, capture_output=True)
            with open(path) as f:
                return f.read()

    def test_page_ref_accessors_go_through_the_split_word(self):
        out = self.spatch("10-page-ref-split-word.cocci", "page_ref.h",
                          "#include <linux/atomic.h>\n"
                          "static inline int page_ref_count(const struct page *page)\n"
                          "{\n\treturn atomic_read(&page->_refcount);\n}\n"
                          "static inline void f(struct page *page, int nr)\n"
                          "{\n\tatomic_add(nr, &page->_refcount);\n"
                          "\tif (atomic_dec_and_test(&page->_refcount))\n\t\tg();\n"
                          "\tatomic_set(&page->_refcount, nr);\n}\n")
        self.assertIn("#include <linux/page_pin_split.h>", out)
        self.assertIn("page_pin_split_holders(atomic_read(&page->_refcount))", out)
        self.assertIn("page_pin_split_add(&page->_refcount, nr)", out)
        self.assertIn("page_pin_split_sub_and_test(&page->_refcount, 1)", out)
        self.assertIn("atomic_set(&page->_refcount, nr)", out)  # raw writes stay

    def test_gup_pins_go_through_the_hooks_and_unpins_say_they_do_not_know(self):
        out = self.spatch("20-gup-pins-in-fields.cocci", "gup.c",
                          "static void gup_put_folio(struct folio *folio, int refs,"
                          " unsigned int flags)\n{\n\tfolio_put_refs(folio, refs);\n}\n"
                          "void unpin_folio(struct folio *folio)\n"
                          "{\n\tgup_put_folio(folio, 1, FOLL_PIN);\n}\n"
                          "static struct folio *fast(struct folio *folio, int refs,"
                          " unsigned int flags)\n{\n"
                          "\tfolio_ref_add(folio, refs * (GUP_PIN_COUNTING_BIAS - 1));\n"
                          "\treturn folio;\n}\n")
        self.assertIn("if (page_pin_split_put(folio, refs, flags))", out)
        self.assertIn("FOLL_PIN | PAGE_PIN_SPLIT_FOLL_UNKNOWN", out)
        self.assertIn("if (!page_pin_split_trade(folio, refs, flags))", out)
        self.assertNotIn("GUP_PIN_COUNTING_BIAS", out)

    def test_only_io_uring_and_bio_unpins_name_their_kind(self):
        text = ("void f(struct page **p, int n)\n{\n\tunpin_user_pages(p, n);\n}\n"
                "void g(struct bio *bio, struct folio *folio)\n"
                "{\n\tunpin_user_folio(folio, 1);\n}\n")
        uring = self.spatch("40-unpin-with-kind.cocci", "io_uring/rsrc.c", text)
        self.assertIn("unpin_user_pages_kind(p, n, PAGE_PIN_RW)", uring)
        other = self.spatch("40-unpin-with-kind.cocci", "drivers/x.c", text)
        self.assertIn("unpin_user_pages(p, n)", other)
        self.assertIn("unpin_user_folio_kind(folio, 1, page_pin_kind_of_bio(bio))", other)

    def test_fuse_unpins_by_whether_it_dirtied_the_page(self):
        out = self.spatch("70-fuse-unpin-kind.cocci", "fs/fuse/file.c",
                          "struct ap { struct page **pages; };\n"
                          "static void release(struct ap *ap, int n, bool should_dirty)\n"
                          "{\n\tfor (int i = 0; i < n; i++) {\n"
                          "\t\tif (n)\n\t\t\tunpin_user_page(ap->pages[i]);\n\t}\n}\n"
                          "static void other(struct page *page)\n"
                          "{\n\tunpin_user_page(page);\n}\n")
        # One line at the kernel's 100 columns: a wrapped call is indented with spaces.
        self.assertIn("\n\t\t\tunpin_user_page_kind(ap->pages[i], "
                      "page_pin_kind_of_dirty(should_dirty));\n", out)
        self.assertIn("\tunpin_user_page(page);", out)  # no dirty flag: left inferred


if __name__ == "__main__":
    unittest.main()
