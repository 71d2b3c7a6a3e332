#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Checks that docs/development.md names every source file under src/ and every script under
# tests/lib/, scripts/ and bench/ (the tables of "Source files"). A table row names files in
# its first cell: `name.c`, `.h` (the header of the file named before it), `dir/name.c`. Under
# a "### src/DIR/" heading names are relative to src/DIR/; under a heading naming several
# directories, or "Outside src/", they carry their directory.
# Prints each file that is not named and ends with "N passed, N failed" (one check a file).
import os, re, subprocess, sys

root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
doc = open(os.path.join(root, "docs", "development.md"), encoding="utf-8").read()

named = set()
base = None  # the directory of the current "### src/DIR/" heading, or None
for line in doc.splitlines():
    m = re.match(r"^###\s+(.*)$", line)
    if m:
        dirs = re.findall(r"\bsrc/[\w/-]*", m.group(1))
        base = dirs[0].rstrip("/") if len(dirs) == 1 else None
        continue
    if not line.startswith("| `"):
        continue
    first = line.split("|")[1]
    prev = None
    for name in re.findall(r"`([^`]+)`", first):
        if name.startswith(".") and prev:  # `.h` after `x.c`
            name = prev[: prev.rfind(".")] + name
        if name.startswith(("src/", "tests/", "scripts/", "bench/")):
            path = name
        elif base:
            path = base + "/" + name
        else:
            path = "src/" + name  # "### src/blob/, src/core/, src/util/": rows say dir/name
        named.add(os.path.normpath(path))
        prev = name
files = subprocess.run(["git", "-C", root, "ls-files", "src", "tests/lib", "scripts", "bench"],
                       capture_output=True, text=True, check=True).stdout.split()
others = subprocess.run(["git", "-C", root, "ls-files", "--others", "--exclude-standard", "src",
                         "tests/lib", "scripts", "bench"], capture_output=True, text=True).stdout.split()
passed = failed = 0
for f in sorted(set(files) | set(others)):
    if not os.path.exists(os.path.join(root, f)):
        continue
    if f.startswith("src/") and not re.search(r"\.[ch]$", f):
        continue
    if f.startswith("bench/") and f.count("/") > 1:
        # bench/cups/...: a directory of data the benchmark uses, named as a directory
        if ("`" + os.path.dirname(f) + "/`") in doc:
            passed += 1
            continue
    if f in named:
        passed += 1
    else:
        failed += 1
        print("docs/development.md does not name %s" % f)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
