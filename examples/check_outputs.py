#!/usr/bin/env python3
"""Runs every example next to the Python program in its doc comment and compares their output.

Usage: python3 examples/check_outputs.py [name ...]
Builds the examples in release mode first. Exits non-zero on any difference. Standard output
only: Python's warnings on standard error are not part of a program's output.
"""
import concurrent.futures
import importlib.util
import os
import pathlib
import re
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
# Examples whose Python program needs a server, a database or a library we do not run here.
SKIP = {"tour"}
# Libraries outside Python's standard library that some guide programs import, and how to get
# them; an example whose program needs a missing one is skipped with that hint.
THIRD_PARTY = {"aiosqlite": "pip install aiosqlite"}


def missing_module(src):
    for name, hint in THIRD_PARTY.items():
        if re.search(rf"^\s*import {name}\b", src, re.M) and importlib.util.find_spec(name) is None:
            return f"Python's {name} is not installed: {hint}"
    return None


def python_source(rs: pathlib.Path):
    doc = "\n".join(
        line[4:] if line.startswith("//! ") else line[3:]
        for line in rs.read_text().splitlines()
        if line.startswith("//!")
    )
    m = re.search(r"```python\n(.*?)```", doc, re.S)
    if not m:
        return None
    src = m.group(1)
    if "import asyncio" not in src:
        src = "import asyncio\nimport time\n" + src
    return src


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout


def check(name):
    rs = HERE / f"{name}.rs"
    src = python_source(rs)
    if src is None:
        return name, None, "no Python program in its doc comment"
    missing = missing_module(src)
    if missing:
        return name, None, missing
    with tempfile.TemporaryDirectory() as d:
        py = pathlib.Path(d) / f"{name}_guide.py"
        py.write_text(src)
        expected = run([sys.executable, str(py)])
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    got = run([str(target / "release" / "examples" / name)])
    return name, expected, got


def main():
    names = sys.argv[1:] or sorted(
        p.stem for p in HERE.glob("*.rs") if p.stem not in SKIP and p.stem != "lib"
    )
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "examples", "--examples"],
                   cwd=ROOT, check=True)
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        for name, expected, got in pool.map(check, names):
            if expected is None:
                print(f"skip  {name} ({got})")
            elif expected == got:
                print(f"same  {name}")
            else:
                failed += 1
                print(f"DIFF  {name}\n--- python\n{expected}--- conductor\n{got}")
    print(f"{len(names) - failed}/{len(names)} examples print what asyncio prints")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
