"""The guides' Python programs (the ```python blocks of examples/*.rs, which come from the
guides in /work/shared/seeds) run unchanged on conductor's loop and print what they print on
asyncio's own loop.

    python tests/guides.py [name ...]

Each program runs twice with this interpreter: as it is, and with `conductor.install()` done
first (asyncio.run then makes conductor's loop through the policy). Standard output only, as
examples/check_outputs.py compares. Exits 1 on any difference.
"""

import concurrent.futures
import importlib.util
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"

spec = importlib.util.spec_from_file_location("check_outputs", EXAMPLES / "check_outputs.py")
check_outputs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_outputs)

ON_CONDUCTOR = """\
import runpy, sys, conductor
conductor.install()
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "<timed out after 120 s>"
    return p.stdout


def check(name):
    src = check_outputs.python_source(EXAMPLES / f"{name}.rs")
    if src is None:
        return name, None, "no Python program in its doc comment"
    missing = check_outputs.missing_module(src)
    if missing:
        return name, None, missing
    with tempfile.TemporaryDirectory() as d:
        py = pathlib.Path(d) / f"{name}_guide.py"
        py.write_text(src)
        expected = run([sys.executable, str(py)])
        got = run([sys.executable, "-c", ON_CONDUCTOR, str(py)])
    return name, expected, got


def main():
    names = sys.argv[1:] or sorted(
        p.stem
        for p in EXAMPLES.glob("*.rs")
        if p.stem not in check_outputs.SKIP and p.stem != "lib"
    )
    failed = skipped = 0
    workers = min(4, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for name, expected, got in pool.map(check, names):
            if expected is None:
                skipped += 1
                print(f"skip  {name} ({got})")
            elif expected == got:
                print(f"same  {name}")
            else:
                failed += 1
                print(f"DIFF  {name}\n--- asyncio's loop\n{expected}--- conductor's loop\n{got}")
    ran = len(names) - skipped
    print(f"{ran - failed}/{ran} guide programs print on conductor's loop what they print on asyncio's")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
