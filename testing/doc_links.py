#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every relative link in the given Markdown files resolves: the file (or folder) exists, and an
#anchor names a heading of the target the way GitHub renders it (lower case, punctuation
dropped, spaces to hyphens, -1, -2 ... for repeats) or an explicit <a id|name="...">. Links
inside code (fenced blocks, `inline`) are not links; http(s) and mailto links are not checked
(no network in CTest).

  doc_links.py [--max-lines FILE=N]... FILE|FOLDER...   (a folder stands for its *.md)

--max-lines also holds a file to N lines (the README's two screens). Exit status: 0 every link
resolves, 1 some do not (each listed with its file and line), 2 bad arguments or unreadable
files.
"""
from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
EXPLICIT = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")


def strip_code(text: str) -> list[str]:
    """The file's lines with fenced blocks blanked and inline code removed."""
    lines, fenced = [], False
    for line in text.splitlines():
        if re.match(r"^ {0,3}(```|~~~)", line):
            fenced = not fenced
            lines.append("")
            continue
        lines.append("" if fenced else re.sub(r"`[^`]*`", "", line))
    return lines


def slug(heading: str) -> str:
    text = re.sub(r"`([^`]*)`", r"\1", heading)          # code keeps its text
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = re.sub(r"<[^>]+>", "", text).lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        found: set[str] = set()
        counts: dict[str, int] = {}
        text = path.read_text(encoding="utf-8")
        fenced = False
        for line in text.splitlines():
            if re.match(r"^ {0,3}(```|~~~)", line):
                fenced = not fenced
                continue
            if fenced:
                continue
            found.update(EXPLICIT.findall(line))
            match = HEADING.match(line)
            if match:
                base = slug(match.group(2))
                n = counts.get(base, 0)
                counts[base] = n + 1
                found.add(base if n == 0 else f"{base}-{n}")
        cache[path] = found
    return cache[path]


def check(path: Path, cache: dict[Path, set[str]]) -> list[str]:
    problems = []
    for number, line in enumerate(strip_code(path.read_text(encoding="utf-8")), 1):
        for target in LINK.findall(line):
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                continue  # external (http:, mailto:) or empty
            file_part, _, anchor = target.partition("#")
            dest = (path.parent / file_part).resolve() if file_part else path.resolve()
            where = f"{path}:{number}: {target}"
            if not dest.exists():
                problems.append(f"{where}: {file_part} does not exist")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest, cache):
                problems.append(f"{where}: {dest.name} has no heading or anchor #{anchor}")
    return problems


def main(argv: list[str]) -> int:
    limits: dict[str, int] = {}
    files: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--max-lines" or arg.startswith("--max-lines="):
            value = arg.split("=", 1)[1] if "=" in arg and arg.startswith("--max-lines=") \
                else next(args, "")
            name, _, n = value.rpartition("=")
            if not name or not n.isdigit():
                print(f"doc_links.py: error: --max-lines takes FILE=N, not {value!r}",
                      file=sys.stderr)
                return 2
            limits[name] = int(n)
        elif arg.startswith("-"):
            print(f"doc_links.py: error: unknown flag {arg!r}", file=sys.stderr)
            return 2
        elif Path(arg).is_dir():
            files += sorted(str(p) for p in Path(arg).glob("*.md"))  # a folder: its *.md
        else:
            files.append(arg)
    if not files:
        print("doc_links.py: error: no files (usage: doc_links.py [--max-lines FILE=N] FILE...)",
              file=sys.stderr)
        return 2
    problems: list[str] = []
    cache: dict[Path, set[str]] = {}
    try:
        for name in files:
            problems += check(Path(name), cache)
        for name, limit in limits.items():
            count = len(Path(name).read_text(encoding="utf-8").splitlines())
            if count > limit:
                problems.append(f"{name}: {count} lines, more than {limit}")
    except (OSError, UnicodeDecodeError) as e:
        print(f"doc_links.py: error: {e}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    print(f"{len(files)} files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
