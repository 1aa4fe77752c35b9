"""uvloop's own test suite (its tests/ folder) on conductor's loop, where its harness allows.

    python tests/uvloop_suite.py UVLOOP_TESTS_DIR [--loop default|conductor] [--list-failures]

uvloop's tests are written once (`class _TestTCP`) and run twice: on uvloop (`*_UV` classes,
`tb.UVTestCase`) and on asyncio's loop (`Test_AIO_*` classes, subclasses of `tb.AIOTestCase`, whose `new_loop` and
`new_policy` make the loop). This runs the `tb.AIOTestCase` classes with `AIOTestCase` making conductor's
loop (`--loop default`: asyncio's, the baseline), and prints what passed, failed and was skipped.
The tests come from uvloop's repository (not vendored; uvloop's `_testbase` comes from the
installed uvloop package, which the tests import): e.g.
`git -C <uvloop clone> archive HEAD tests | tar -x -C target/uvloop-tests`. Not part of CI.
"""

import argparse
import asyncio
import os
import sys
import unittest

import conductor


def patch_harness(loop_name):
    from uvloop import _testbase as tb

    if loop_name == "conductor":
        tb.AIOTestCase.new_loop = lambda self: conductor.new_event_loop()
        tb.AIOTestCase.new_policy = lambda self: conductor.EventLoopPolicy()


def aio_tests(suite):
    from uvloop import _testbase as tb

    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from aio_tests(t)
        elif isinstance(t, tb.AIOTestCase):
            yield t
        elif isinstance(t, unittest.loader._FailedTest):
            yield t  # a module that does not import: reported as an error


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tests_dir")
    ap.add_argument("--loop", default="conductor", choices=("conductor", "default"))
    ap.add_argument("--list-failures", action="store_true")
    args = ap.parse_args()
    patch_harness(args.loop)
    top = os.path.dirname(os.path.abspath(args.tests_dir))
    sys.path.insert(0, top)
    loader = unittest.TestLoader()
    found = loader.discover(args.tests_dir, top_level_dir=top)
    suite = unittest.TestSuite(aio_tests(found))
    res = unittest.TextTestRunner(verbosity=0, stream=open(os.devnull, "w")).run(suite)
    bad = [t.id() for t, _ in res.failures + res.errors]
    print(
        f"{args.loop} loop: {res.testsRun} run, {len(res.failures)} failed, "
        f"{len(res.errors)} errors, {len(res.skipped)} skipped"
    )
    if args.list_failures:
        for t, tb in res.failures + res.errors:
            last = tb.strip().splitlines()[-1]
            print(f"- `{t.id()}` {last[:160]}")
    return 1 if bad else 0


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(main())
