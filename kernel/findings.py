# SPDX-License-Identifier: GPL-2.0-only
"""The trial's findings about the kernel, counted over the split tree:

  unpin sites      every call of the unpin API, and those the change made
                   name the pin's kind (the rest are inferred at run time)
  signed readers   comparisons of page_ref_count()/folio_ref_count()/
                   page_count() (kernel/split/cocci/find-signed-refcount.cocci
                   over mm/, fs/, io_uring/): each would misread the raw word
  raw readers      atomics on ->_refcount outside page_ref.h, which see the
                   raw word and not the holders
  bias users       GUP_PIN_COUNTING_BIAS outside mm/gup.c and mm.h
  bulk references  page_ref_add() of a large constant (a "pagecnt_bias" trick:
                   take many references at once, hand them out without
                   atomics), with the smallest ordinary field that holds it
"""

import collections
import os
import re
import subprocess

from common import HERE, SPATCH

UNPIN = re.compile(r"\b(unpin_user_pages_dirty_lock|unpin_user_page_range_dirty_lock|"
                   r"unpin_user_pages|unpin_user_page|unpin_user_folio|unpin_folios|unpin_folio)"
                   r"(_kind)?\s*\(")
RAW = re.compile(r"atomic_\w+\(\s*&[^;]*->_refcount\b")
BIAS = re.compile(r"\bGUP_PIN_COUNTING_BIAS\b")
COUNT_CALL = re.compile(r"\b(page_ref_count|folio_ref_count|page_count)\s*\(")
BULK = re.compile(r"\b(?:page|folio)_ref_add\(\s*[^,]+,\s*([A-Z][A-Z_0-9]*(?:\s*-\s*\w+)?)\s*\)")
# The constants the bulk adds use, as this tree defines them.
BULK_CONSTANTS = {"USHRT_MAX": 0xFFFF, "INT_MAX": 0x7FFFFFFF, "PAGE_FRAG_CACHE_MAX_SIZE": 32768}
AREAS = ("mm", "fs", "io_uring")
API_FILES = ("mm/gup.c", "include/linux/mm.h", "include/linux/page_ref.h",
             "include/linux/page_pin_split.h", "mm/page_pin_split.c")


def _sources(tree, dirs):
    for d in dirs:
        for root, _, files in os.walk(os.path.join(tree, d)):
            for name in files:
                if name.endswith((".c", ".h")):
                    path = os.path.join(root, name)
                    yield os.path.relpath(path, tree), path


def _grep(tree, dirs, pattern):
    hits = []
    for rel, path in _sources(tree, dirs):
        with open(path, errors="replace") as f:
            for n, line in enumerate(f, 1):
                for m in pattern.finditer(line):
                    hits.append((rel, n, m))
    return hits


def signed_readers(tree):
    """Coccinelle over the files of mm/, fs/, io_uring/ that call a count reader."""
    files = sorted({rel for rel, _, _ in _grep(tree, AREAS, COUNT_CALL)})
    cocci = os.path.join(HERE, "split", "cocci", "find-signed-refcount.cocci")
    found = []
    for i in range(0, len(files), 40):
        proc = subprocess.run([*SPATCH, "--no-show-diff", "--sp-file", cocci,
                               *files[i:i + 40]], cwd=tree, capture_output=True, text=True,
                              check=False)
        found += [l.split(" ", 1)[1] for l in proc.stdout.splitlines()
                  if l.startswith("signed_compare ")]
    return sorted(set(found)), len(files)


def bulk_references(tree):
    """Sites that add a constant number of references, and what that number needs."""
    sites = []
    for rel, n, m in _grep(tree, ("",), BULK):
        if rel.startswith(("tools/", "Documentation/")) or "GUP_PIN_COUNTING_BIAS" in m.group(1):
            continue
        name, _, minus = (part.strip() for part in m.group(1).partition("-"))
        if name not in BULK_CONSTANTS:
            continue
        value = BULK_CONSTANTS[name] - (int(minus) if minus.isdigit() else 0)
        # A field of O bits counts 2^(O-2) before it saturates (page_pin_split.h).
        needed = next(o for o in range(2, 40) if (1 << (o - 2)) > value)
        sites.append({"site": f"{rel}:{n}", "adds": m.group(1), "value": value,
                      "ordinary_bits_needed": needed})
    return sites


def findings(tree):
    unpins = [(rel, n, m.group(1), bool(m.group(2)))
              for rel, n, m in _grep(tree, ("",), UNPIN)
              if rel not in API_FILES and not rel.startswith(("tools/", "Documentation/"))]
    by_dir = collections.Counter(rel.split("/")[0] for rel, _, _, kind in unpins if not kind)
    signed, scanned = signed_readers(tree)
    raw = [f"{rel}:{n}" for rel, n, _ in _grep(tree, AREAS + ("include/linux", "block"), RAW)
           if rel not in API_FILES]
    bias = [f"{rel}:{n}" for rel, n, _ in _grep(tree, ("",), BIAS)
            if rel not in API_FILES and not rel.startswith(("tools/", "Documentation/"))]
    return {
        "unpin_sites": {
            "total": len(unpins),
            "with_kind": [f"{rel}:{n} {fn}" for rel, n, fn, kind in unpins if kind],
            "inferred": sum(1 for u in unpins if not u[3]),
            "inferred_by_directory": dict(by_dir.most_common()),
        },
        "signed_readers": {"count": len(signed), "files_scanned": scanned, "sites": signed},
        "raw_word_readers": raw,
        "bias_users": bias,
        "bulk_references": bulk_references(tree),
    }
