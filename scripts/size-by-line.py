#!/usr/bin/env python3
"""Where pocket's .text goes, by source: every byte charged to the source
line the DWARF line table names for it (inlined code to the line it came
from, so Rust's own generic code inlined into pocket's shows as
library/core and library/alloc). Prints the files, biggest first; with
--lines, the lines.

  pip install pyelftools
  CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_PROFILE_RELEASE_STRIP=false \\
    cargo build --release --no-default-features --target-dir target/lines
  scripts/size-by-line.py target/lines/x86_64-unknown-linux-musl/release/pocket [N] [--lines]
"""
import collections
import re
import sys

from elftools.elf.elffile import ELFFile


def rows(path):
    elf = ELFFile(open(path, "rb"))
    text = elf.get_section_by_name(".text")
    lo, hi = text["sh_addr"], text["sh_addr"] + text["sh_size"]
    dwarf = elf.get_dwarf_info()
    for cu in dwarf.iter_CUs():
        lp = dwarf.line_program_for_CU(cu)
        if lp is None:
            continue
        files, dirs = lp["file_entry"], lp["include_directory"]
        v5 = lp.header["version"] >= 5  # file and dir indexes from 0, else 1

        def name(i):
            try:
                f = files[i if v5 else i - 1]
                d = dirs[f.dir_index if v5 else f.dir_index - 1] if (v5 or f.dir_index) else b""
                return (d + b"/" + f.name).decode()
            except (IndexError, AttributeError):
                return "?"

        prev = None
        for entry in lp.get_entries():
            st = entry.state
            if st is None:
                continue
            if prev is not None and lo <= prev.address < hi and st.address > prev.address:
                yield name(prev.file), prev.line, st.address - prev.address
            prev = None if st.end_sequence else st


def short(f):
    for pat in (r"(library/(core|alloc)/src/.*)", r"registry/src/[^/]+/([^/]+)/.*", r".*?/(src/.*)"):
        m = re.search(pat, f)
        if m:
            return m.group(1)
    return f


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[1]) if len(args) > 1 else 40
    by = collections.Counter()
    for f, line, size in rows(args[0]):
        by[short(f) + (f":{line}" if "--lines" in sys.argv else "")] += size
    total = sum(by.values())
    rust = sum(v for k, v in by.items() if k.startswith("library/"))
    print(f"{total} bytes of .text attributed; Rust's core/alloc inlined: {rust}")
    for k, v in by.most_common(n):
        print(f"{v:8} {k}")


main()
