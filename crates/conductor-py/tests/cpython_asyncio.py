"""CPython's own asyncio tests (the interpreter's `test.test_asyncio`) on conductor's loop.

    python tests/cpython_asyncio.py                 # conductor's loop; fails on a regression
    python tests/cpython_asyncio.py --loop default  # the same suite on asyncio's own loop
    python tests/cpython_asyncio.py --list-failures # print the failing ids (for KNOWN_FAILURES.md)

How conductor's loop gets under the tests: conductor's policy is installed (and stays
installed: the modules' `tearDownModule` resets the policy to None, which here means
conductor's again), so every test that makes its loop with `asyncio.new_event_loop()` or
`asyncio.Runner` (IsolatedAsyncioTestCase: test_locks, test_queues, test_timeouts, ...) gets
conductor's; and the loop-parametrized suites (test_events' and test_sock_lowlevel's mixins,
which CPython runs once per selector) run once more on a class whose `create_event_loop` is
conductor's. Tests built on asyncio's mock `TestLoop` (much of test_tasks and test_futures)
test asyncio's Python code, whatever the loop: they run too, and must keep passing.

Exit status 1 when a test fails that KNOWN_FAILURES.md does not list (a regression); tests
listed there that now pass are printed, to be taken off the list.
"""

import argparse
import asyncio
import faulthandler
import os
import re
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
KNOWN = os.path.join(os.path.dirname(HERE), "KNOWN_FAILURES.md")

MODULES = [
    "test_events",
    "test_sock_lowlevel",
    "test_futures",
    "test_tasks",
    "test_locks",
    "test_queues",
    "test_timeouts",
    "test_streams",
    "test_server",
    "test_taskgroups",
    "test_waitfor",
    "test_context",
    "test_pep492",
    "test_runners",
]

# Classes of the loop-parametrized modules that run on asyncio's own selector loops: replaced
# by the one class below that runs the same mixin on the loop under test.
SELECTOR_CLASSES = re.compile(r"^(Kqueue|EPoll|Poll|Select)EventLoopTests$")

PER_TEST_TIMEOUT = 60  # seconds; a hang ends the run with the stuck test's traceback


def known_failures():
    ids = {}
    with open(KNOWN) as f:
        for line in f:
            m = re.match(r"^- `([^`]+)`(.*)", line)
            if m:
                ids[m.group(1)] = m.group(2).strip(" —-")
    return ids


def build_suite(loop_factory):
    from test.test_asyncio import test_events, test_sock_lowlevel
    from test.test_asyncio import utils as test_utils

    loader = unittest.TestLoader()
    suite = unittest.TestSuite()

    class ConductorEventLoopTests(
        test_events.UnixEventLoopTestsMixin,
        test_events.SubprocessTestsMixin,
        test_utils.TestCase,
    ):
        def create_event_loop(self):
            return loop_factory()

    class ConductorSockTests(test_sock_lowlevel.BaseSockTestsMixin, test_utils.TestCase):
        def create_event_loop(self):
            return loop_factory()

    extra = {
        "test_events": ConductorEventLoopTests,
        "test_sock_lowlevel": ConductorSockTests,
    }
    for name in MODULES:
        mod = __import__(f"test.test_asyncio.{name}", fromlist=["x"])
        if name in extra:
            cls = extra[name]
            cls.__module__ = mod.__name__
            cls.__qualname__ = cls.__name__
            suite.addTests(loader.loadTestsFromTestCase(cls))
            for attr in dir(mod):
                obj = getattr(mod, attr)
                if (
                    isinstance(obj, type)
                    and issubclass(obj, unittest.TestCase)
                    and obj.__module__ == mod.__name__
                    and not SELECTOR_CLASSES.match(attr)
                ):
                    suite.addTests(loader.loadTestsFromTestCase(obj))
        else:
            suite.addTests(loader.loadTestsFromModule(mod))
    return suite


class TimedResult(unittest.TextTestResult):
    def startTest(self, test):
        faulthandler.dump_traceback_later(PER_TEST_TIMEOUT, exit=True)
        super().startTest(test)

    def stopTest(self, test):
        faulthandler.cancel_dump_traceback_later()
        super().stopTest(test)


def test_id(test):
    # "module.Class.method", with the module's short name
    return test.id().replace("test.test_asyncio.", "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loop", choices=["conductor", "default"], default="conductor")
    ap.add_argument("--list-failures", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    created = [0]
    if args.loop == "conductor":
        import conductor

        class CountingLoop(conductor.Loop):
            def __init__(self):
                created[0] += 1
                super().__init__()

        class Policy(conductor.EventLoopPolicy):
            _loop_factory = CountingLoop

        set_policy = asyncio.events.set_event_loop_policy

        def keep_conductor(policy):
            set_policy(Policy() if policy is None else policy)

        asyncio.set_event_loop_policy = asyncio.events.set_event_loop_policy = keep_conductor
        keep_conductor(None)
        factory = CountingLoop
    else:
        factory = asyncio.SelectorEventLoop

    suite = build_suite(factory)
    t0 = time.monotonic()
    runner = unittest.TextTestRunner(
        verbosity=2 if args.verbose else 1, resultclass=TimedResult, stream=sys.stderr
    )
    result = runner.run(suite)
    took = time.monotonic() - t0
    failed = sorted(
        {test_id(t) for t, _ in result.failures + result.errors + result.unexpectedSuccesses}
    )
    print(
        f"\n{args.loop} loop: {result.testsRun} run, {len(failed)} failed, "
        f"{len(result.skipped)} skipped, in {took:.0f} s; conductor loops created: {created[0]}"
    )
    if args.list_failures:
        for t in failed:
            print(f"- `{t}`")
        return 0
    if args.loop == "default":
        return 0 if not failed else 1
    known = known_failures()
    new = [t for t in failed if t not in known]
    fixed = sorted(t for t in known if t not in failed)
    if fixed:
        print("listed in KNOWN_FAILURES.md but passing now (take them off the list):")
        for t in fixed:
            print(f"  {t}")
    if new:
        print("REGRESSIONS (failing, not in KNOWN_FAILURES.md):")
        for t in new:
            print(f"  {t}")
        return 1
    print("no regression against KNOWN_FAILURES.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
