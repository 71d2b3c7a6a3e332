#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Checks the ownership rule of docs/development.md: every function a header under src/ declares
# (what other files call: not static, not a macro, not a typedef) has a comment directly above
# it, or belongs to a block of declarations (no blank line inside) with a comment directly
# above the block. Prints each declaration without one as FILE:LINE: NAME and ends with
# "N passed, N failed" (one check a declaration).
#   header-comments.py [--root DIR] [--self-test] [--blocks]
# --root checks another copy of the tree; --self-test first proves on a copy of src/ that a
# declaration without a comment fails (a failed self-test counts as a failure); --blocks lists,
# for review, the declarations covered only by the comment of their block that does not name
# them (no check: whether such a comment says enough is for a reader to judge).
import os, re, subprocess, sys

args = sys.argv[1:]
root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
blocks = "--blocks" in args
if "--root" in args:
    root = os.path.abspath(args[args.index("--root") + 1])


def headers(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others",
                              "--exclude-standard", "src"], capture_output=True, text=True,
                             check=True).stdout.split()
    except (subprocess.CalledProcessError, FileNotFoundError):
        out = [os.path.relpath(os.path.join(d, f), root)
               for d, _, fs in os.walk(os.path.join(root, "src")) for f in fs]
    return sorted(f for f in set(out) if f.endswith(".h") and os.path.exists(os.path.join(root, f)))


def classify(text):
    """Per line: 'blank', 'comment' (a comment and no code), 'pp' (a preprocessor line) or
    'code'; and the text with comments and string literals blanked out (same line breaks), for
    finding declarations."""
    code = []
    kinds = []
    in_comment = False
    pp_cont = False
    for line in text.split("\n"):
        out = []
        i = 0
        had_code = False
        ends_in_comment = False
        while i < len(line):
            if in_comment:
                j = line.find("*/", i)
                if j < 0:
                    i = len(line)
                else:
                    in_comment = False
                    i = j + 2
                ends_in_comment = True
                continue
            ch = line[i]
            if line.startswith("/*", i):
                in_comment = True
                ends_in_comment = True
                i += 2
                continue
            if line.startswith("//", i):
                ends_in_comment = True
                break
            if ch in "\"'":
                j = i + 1
                while j < len(line) and line[j] != ch:
                    j += 2 if line[j] == "\\" else 1
                out.append(ch + " " * max(0, min(j, len(line)) - i - 1) + ch)
                i = j + 1
                had_code = True
                ends_in_comment = False
                continue
            out.append(ch)
            if not ch.isspace():
                had_code = True
                ends_in_comment = False
            i += 1
        stripped = "".join(out)
        if pp_cont or stripped.lstrip().startswith("#"):
            kinds.append("pp")
            pp_cont = stripped.rstrip().endswith("\\")
            code.append("")
            continue
        if had_code:
            kinds.append("code")  # a declaration, maybe with a note at the end of its line
        elif ends_in_comment or in_comment:
            kinds.append("comment")
        else:
            kinds.append("blank")
        code.append(stripped)
    return kinds, code


NOT_FUNCTIONS = {"_Static_assert", "static_assert", "sizeof", "__attribute__", "typeof"}


def declarations(kinds, code):
    """(first line index, name, is_static) of each function declared at file scope."""
    depth = 0
    stmt = []
    start = None
    for n, line in enumerate(code):
        for ch in line:
            if depth == 0 and start is None and not ch.isspace():
                start = n
            if ch == "{":
                if depth == 0:
                    yield from function_of(start, "".join(stmt) + "{")
                depth += 1
                stmt = []
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    stmt = ["struct "]  # the rest ("} name_t;") belongs to a type
            elif depth == 0:
                stmt.append(ch)
                if ch == ";":
                    yield from function_of(start, "".join(stmt))
                    stmt = []
                    start = None
        if depth == 0:
            stmt.append(" ")
        if depth > 0:
            start = None


def function_of(start, stmt):
    s = re.sub(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)", " ", stmt).strip()
    if s.startswith("struct ") and "(" not in s:
        return
    if re.match(r"(typedef|struct\s*;|enum\b|union\b)", s):
        return
    m = re.search(r"([A-Za-z_]\w*)\s*\(", s)
    if not m or m.group(1) in NOT_FUNCTIONS:
        return
    after = s[m.end():].lstrip()
    if after.startswith("*"):  # a pointer to a function: a variable
        return
    before = s[:m.start()]
    if "=" in before or not re.search(r"\w", before):
        return
    yield (start, m.group(1), bool(re.search(r"\bstatic\b", before)))


def covering_comment(kinds, first):
    """Line index of the comment that covers the declaration starting at line first (directly
    above it, or above its block), or None."""
    i = first - 1
    while i >= 0:
        k = kinds[i]
        if k == "comment":
            return i
        if k in ("blank", "pp"):
            return None
        i -= 1
    return None


def comment_text(lines, end):
    i = end
    while i > 0 and "/*" not in lines[i] and not lines[i].lstrip().startswith("//"):
        i -= 1
    while i > 0 and lines[i - 1].lstrip().startswith("//") and lines[i].lstrip().startswith("//"):
        i -= 1
    return "\n".join(lines[i:end + 1]), i


def check(root, blocks=False, quiet=False):
    """Checks the headers under root/src: (passed, failed, the names without a comment)."""
    passed = failed = 0
    missing = []
    for rel in headers(root):
        text = open(os.path.join(root, rel), encoding="utf-8", errors="replace").read()
        lines = text.split("\n")
        kinds, code = classify(text)
        for first, name, is_static in declarations(kinds, code):
            if is_static:
                continue
            at = covering_comment(kinds, first)
            if at is None:
                failed += 1
                missing.append(name)
                if not quiet:
                    print("%s:%d: %s has no comment above it (docs/development.md, \"Ownership "
                          "is written down\")" % (rel, first + 1, name))
                continue
            passed += 1
            if blocks and at != first - 1:
                own = lines[first].split("/*", 1)[1] if "/*" in lines[first] else ""
                body, _ = comment_text(lines, at)
                if name not in body and not own:
                    print("block %s:%d: %s (covered by the comment at line %d)" %
                          (rel, first + 1, name, at + 1))
    return passed, failed, missing


def self_test():
    """On a copy of src/: a declaration with no comment must fail and be named; one in a
    commented block, or under its own comment, must pass."""
    import shutil, tempfile
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(os.path.join(root, "src"), os.path.join(tmp, "src"))
        _, base_failed, _ = check(tmp, quiet=True)
        h = os.path.join(tmp, "src", "store", "store.h")
        text = open(h, encoding="utf-8").read()
        cut = text.rindex("#endif")
        cases = [
            ("int store_selftest_bare(void);\n", ["store_selftest_bare"]),
            ("/* Does a. */\nint store_selftest_a(void);\n", []),
            ("/* Do a and b. */\nint store_selftest_a(void);\nint store_selftest_b(void);\n", []),
            ("/* Does a. */\nint store_selftest_a(void);\n\nint store_selftest_b(int x,\n"
             "                            int y);\n", ["store_selftest_b"]),
            ("int store_selftest_note(void); /* a note is not a comment above */\n",
             ["store_selftest_note"]),
            ("/* A type. */\ntypedef struct { int (*fn)(void); } selftest_t;\n"
             "static inline int selftest_inline(void) { return 0; }\n"
             "#define SELFTEST_M(x) f(x)\n", []),
        ]
        for added, want in cases:
            open(h, "w", encoding="utf-8").write(text[:cut] + "\n" + added + "\n" + text[cut:])
            _, failed, missing = check(tmp, quiet=True)
            if failed != base_failed + len(want) or any(w not in missing for w in want):
                print("self-test: adding %r gave %d failure(s) %s, expected %s" %
                      (added, failed - base_failed, missing, want))
                ok = False
    print("self-test: %s" % ("a declaration without a comment fails" if ok else "FAILED"))
    return ok


ok = True
if "--self-test" in args:
    ok = self_test()
passed, failed, _ = check(root, blocks)
if not ok:
    failed += 1
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
