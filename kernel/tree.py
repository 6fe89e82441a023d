# SPDX-License-Identifier: GPL-2.0-only
"""The kernel source the trial builds: Debian's linux-source-6.12, unpacked
under build/kernel/src as a git repository (tag `stock`), and the split
change applied to it as commits on a second worktree (build/kernel/split-src).

The change is only what the project wrote: the new files under
kernel/split/new, the edit steps below (each keyed on a line it must find),
and the Coccinelle semantic patches under kernel/split/cocci. Applying is
skipped when none of those inputs changed, so an unchanged change never
touches a source file's mtime and the split build stays incremental.
"""

import glob
import hashlib
import os
import shutil
import subprocess
import tarfile

from common import HERE, KBUILD, SPATCH, TrialError, log, run

SOURCE_PACKAGE = "linux-source-6.12"
SRC = os.path.join(KBUILD, "src")
SPLIT_SRC = os.path.join(KBUILD, "split-src")
PATCHES = os.path.join(KBUILD, "patches")
CHANGE = os.path.join(HERE, "split")
AUTHOR = ["-c", "user.name=pinsplit kernel trial", "-c", "user.email=pinsplit@invalid"]

# (subject, body, new files, line edits, semantic patches with their targets).
# A line edit is (file, anchor line or None to append, what to add): a line, or
# "@FILE" for the entries of kernel/split/new/FILE without its leading comment.
STEPS = [
    ("mm: add the split page refcount's fields and helpers",
     "A header with the layout [READ pins][R/W pins][ordinary] and its\n"
     "saturating accessors, the GUP hooks in mm/page_pin_split.c, and\n"
     "debugfs page_pin_split/{layout,stats,pfn} to read a page's fields.",
     ["include/linux/page_pin_split.h", "mm/page_pin_split.c"],
     [("mm/Kconfig", None, "@mm/Kconfig.page_pin_split"),
      ("mm/Makefile", None, "obj-$(CONFIG_PAGE_PIN_SPLIT) += page_pin_split.o")],
     []),
    ("mm: count page references through the split word",
     "page_ref_count() reports holders, each pin weighing one, so it is\n"
     "never negative; adds saturate and a put without a reference is undone.",
     [], [], [("10-page-ref-split-word.cocci", ["include/linux/page_ref.h"])]),
    ("mm/gup: pin order-0 folios in the READ or the R/W field",
     "FOLL_WRITE chooses the field; a full field refuses the pin with\n"
     "-EAGAIN and changes nothing. GUP-fast trades the references it took.",
     [], [], [("20-gup-pins-in-fields.cocci", ["mm/gup.c"])]),
    ("mm: make folio_maybe_dma_pinned() exact for order-0 folios",
     "The pin fields say it without a guess.",
     [], [], [("30-maybe-pinned-exact.cocci", ["include/linux/mm.h"])]),
    ("io_uring, block: unpin with the pin's kind",
     "Call sites that know whether they pinned for write say so, so the\n"
     "field is never inferred for them.",
     [], [], [("40-unpin-with-kind.cocci",
               ["io_uring/kbuf.c", "io_uring/memmap.c", "io_uring/rsrc.c", "block/bio.c",
                "block/blk.h"])]),
    ("mm/gup_test: unpin long-term test pins by their kind",
     "An inferred unpin takes R/W when both fields hold pins, which is wrong\n"
     "for gup_test's READ pins beside another user's R/W pin.",
     [],
     [("mm/gup_test.c", "static unsigned long pin_longterm_test_nr_pages;",
       "static enum page_pin_kind pin_longterm_test_kind;"),
      ("mm/gup_test.c", "\tpin_longterm_test_pages = pages;",
       "\tpin_longterm_test_kind = gup_flags & FOLL_WRITE ? PAGE_PIN_RW : PAGE_PIN_READ;")],
     [("60-gup-test-unpin-kind.cocci", ["mm/gup_test.c"])]),
    ("fuse: unpin direct I/O pages by their kind",
     "Pages FUSE dirties on release are the ones it pinned for write.",
     [], [], [("70-fuse-unpin-kind.cocci", ["fs/fuse/file.c"])]),
    ("ext4: ask whether a journalled folio is pinned for write",
     "Only a write pin lets a device dirty the folio behind ext4's back.",
     [], [], [("50-dirty-needs-write-pin.cocci", ["fs/ext4/inode.c"])]),
]


def change_digest():
    """A digest of everything the split change is made of."""
    h = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(CHANGE, "**", "*"), recursive=True)):
        # The finders under cocci/ (find-*.cocci) change nothing in the tree.
        if os.path.isfile(path) and not os.path.basename(path).startswith("find-"):
            h.update(os.path.relpath(path, CHANGE).encode())
            with open(path, "rb") as f:
                h.update(f.read())
    with open(__file__, "rb") as f:  # the edit steps
        h.update(f.read())
    h.update(" ".join(SPATCH).encode())  # how Coccinelle writes the code
    return h.hexdigest()[:16]


def git(*args, cwd=SRC, capture=False):
    return run(["git", *AUTHOR, *args], cwd=cwd, capture=capture)


def prepare_stock():
    """Unpacks the source package once and tags it `stock`."""
    if os.path.isdir(os.path.join(SRC, ".git")):
        return
    tarballs = sorted(glob.glob(f"/usr/src/{SOURCE_PACKAGE}.tar.*"))
    if not tarballs:
        raise TrialError(f"/usr/src/{SOURCE_PACKAGE}.tar.* is missing; apt-get install "
                         f"{SOURCE_PACKAGE}")
    tmp = SRC + ".unpacking"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    log(f"unpacking {tarballs[-1]} (about a minute)")
    with tarfile.open(tarballs[-1]) as tar:
        tar.extractall(tmp, filter="fully_trusted")
    (top,) = os.listdir(tmp)
    shutil.rmtree(SRC, ignore_errors=True)
    os.rename(os.path.join(tmp, top), SRC)
    os.rmdir(tmp)
    git("init", "-q")
    # 80,000 loose objects would start an automatic repack that competes with the build.
    git("config", "gc.auto", "0")
    # Debian's tree ignores everything with its top-level .gitignore.
    git("add", "-Af", ".")
    git("commit", "-qm", f"{SOURCE_PACKAGE} as unpacked")
    git("tag", "stock")


def apply_step(work, subject, body, new_files, edits, semantic_patches):
    for rel in new_files:
        dest = os.path.join(work, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(os.path.join(CHANGE, "new", rel), dest)
    for rel, anchor, addition in edits:
        path = os.path.join(work, rel)
        with open(path) as f:
            lines = f.read().splitlines()
        added = [addition]
        if addition.startswith("@"):
            with open(os.path.join(CHANGE, "new", addition[1:])) as f:
                added = f.read().splitlines()
            while added and added[0].startswith("#"):
                added.pop(0)
        at = len(lines)
        if anchor is not None:
            if anchor not in lines:
                raise TrialError(f"{rel}: the edit's anchor line {anchor!r} is gone")
            at = lines.index(anchor) + 1
        lines[at:at] = added
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
    for cocci, targets in semantic_patches:
        for rel in targets:
            run([*SPATCH, "--sp-file", os.path.join(CHANGE, "cocci", cocci), "--in-place", rel],
                cwd=work, capture=True)
    git("add", "-Af", ".", cwd=work)
    if not git("status", "--porcelain", cwd=work, capture=True).strip():
        raise TrialError(f"step '{subject}' changed nothing: the tree moved under it")
    git("commit", "-q", "-m", f"{subject}\n\n{body}\n", cwd=work)


def prepare_split():
    """Brings build/kernel/split-src to the change's current commits."""
    digest = change_digest()
    stamp = os.path.join(KBUILD, "split-change.digest")
    if os.path.isdir(SPLIT_SRC) and os.path.exists(stamp) and open(stamp).read() == digest:
        log(f"split change unchanged ({digest}); source left as it is")
        return digest
    scratch = os.path.join(KBUILD, "split-apply")
    if os.path.isdir(scratch):
        git("worktree", "remove", "--force", scratch)
    git("worktree", "add", "-q", "--detach", scratch, "stock")
    try:
        for step in STEPS:
            log(f"split change: {step[0]}")
            apply_step(scratch, *step)
        head = git("rev-parse", "HEAD", cwd=scratch, capture=True).strip()
    finally:
        git("worktree", "remove", "--force", scratch)
    git("branch", "-f", "split", head)
    if not os.path.isdir(SPLIT_SRC):
        git("worktree", "add", "-q", "--detach", SPLIT_SRC, head)
    else:
        # Only files that differ are rewritten, so make rebuilds only what they feed.
        git("checkout", "-q", "--detach", head, cwd=SPLIT_SRC)
    write_patch_series()
    with open(stamp, "w") as f:
        f.write(digest)
    return digest


def write_patch_series():
    """The readable change: git format-patch stock..split, and checkpatch's word on it."""
    shutil.rmtree(PATCHES, ignore_errors=True)
    os.makedirs(PATCHES)
    git("format-patch", "-q", "-o", PATCHES, "stock..split")
    patches = sorted(glob.glob(os.path.join(PATCHES, "*.patch")))
    # checkpatch runs scripts/spdxcheck.py with the first python3 on PATH: Debian's has its
    # modules (python3-ply, python3-git).
    env = dict(os.environ, PATH="/usr/bin:/bin:" + os.environ.get("PATH", ""))
    proc = subprocess.run(["perl", "scripts/checkpatch.pl", "--no-signoff", "--terse",
                           "--show-types", *patches], cwd=SRC, capture_output=True, text=True,
                          check=False, env=env)
    with open(os.path.join(PATCHES, "checkpatch.txt"), "w") as f:
        f.write(proc.stdout + proc.stderr)
    problems = [l for l in proc.stdout.splitlines() if ": ERROR:" in l or ": WARNING:" in l]
    log(f"patch series: {len(patches)} patches in {PATCHES}; checkpatch: "
        f"{len(problems)} problems besides the sign-off (checkpatch.txt)")
    if "Traceback" in proc.stderr:
        log("checkpatch could not check the SPDX lines: scripts/spdxcheck.py failed "
            "(checkpatch.txt)")
