"""Which threads touch V8: the conditions that crashed the driver on CPUs with memory
protection keys, forced here on any machine.

On such a CPU a thread may touch V8's memory only if it descends from the thread that
initialized V8 and was started after that (see ``codemode_node_v8._lineage``). A machine
without protection keys never faults when that rule is broken, so these tests check the rule
itself: every isolate is made and freed on a thread of the driver's lineage, whatever thread
the application first used V8 from (a thread made before V8 was initialized, one made before
the driver was imported, ``asyncio.to_thread``, many event loops), under churn, at exit and
after fork. Off the lineage, making or freeing an isolate raises instead of faulting.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from codemode.isolate import IsolateConfig
from codemode.testing import bindings, echo, run_program
from codemode.tools import tool
from codemode_node_v8 import _isolates, _lineage, _pkeys, create_node_isolate_driver
from codemode_node_v8._lineage import LineageError
from codemode_node_v8._native import NativeContext


def _run_script(*parts: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    script = "\n".join(textwrap.dedent(part) for part in parts)
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# Every isolate is made and freed on the lineage, and off it nothing is --------------------

RECORDER = """
    import asyncio, threading
    from codemode_node_v8 import _isolates, _lineage, _native

    calls = []

    def recorded(name, function):
        def call(*args):
            calls.append((name, threading.current_thread().name, _lineage.member()))
            return function(*args)
        return call

    def instrument():
        api = _native._api
        api.init_context = recorded("make", api.init_context)
        api.free_context = recorded("free", api.free_context)

    def report():
        off = [call for call in calls if not call[2]]
        print("made", sum(1 for c in calls if c[0] == "make"), "freed", sum(1 for c in calls if c[0] == "free"), "off-lineage", len(off))
        print("threads", sorted({c[1].rsplit("-", 1)[0] for c in calls}))
        from py_mini_racer import init_mini_racer
        print("alive", init_mini_racer(ignore_duplicate_init=True).mr_context_count())
"""

FIRST_USE_SCRIPTS = {
    "a thread made before V8 was initialized": """
        import concurrent.futures
        early = concurrent.futures.ThreadPoolExecutor(1)
        early.submit(lambda: None).result()
        def first():
            _isolates.start(); instrument()
            asyncio.run(work())
        early.submit(first).result()
    """,
    "asyncio.to_thread": """
        async def main():
            def first():
                _isolates.start(); instrument()
            await asyncio.to_thread(first)
            await asyncio.to_thread(asyncio.run, work())
        asyncio.run(main())
    """,
    "the main thread, then loops in other threads": """
        _isolates.start(); instrument()
        asyncio.run(work())
        threads = [threading.Thread(target=asyncio.run, args=(work(),)) for _ in range(3)]
        for t in threads: t.start()
        for t in threads: t.join()
    """,
}

WORK = """
    from codemode.isolate import IsolateConfig
    from codemode.tools import tool
    from codemode_node_v8 import create_node_isolate_driver

    @tool
    def quick(i: int) -> int:
        "A sync tool (served on V8's thread)."
        return i

    @tool
    async def slow(i: int) -> int:
        "An async tool (served on the event loop)."
        await asyncio.sleep(0)
        return i

    CODE = "let t = 0; for (let i = 0; i < 5; i++) t += await external_quick({ i }) + await external_slow({ i }); return t"

    async def work():
        driver = create_node_isolate_driver(skip_probe=True)
        tools = {"external_quick": quick, "external_slow": slow}
        for _ in range(10):
            context = await driver.create_context(IsolateConfig(bindings=tools))
            result = await context.execute(CODE)
            await context.dispose()
            assert result.value == 20, result
        results = await asyncio.gather(*(run(driver, tools) for _ in range(10)))
        assert all(r.value == 20 for r in results), results

    async def run(driver, tools):
        context = await driver.create_context(IsolateConfig(bindings=tools))
        try:
            return await context.execute(CODE)
        finally:
            await context.dispose()
"""


@pytest.mark.parametrize("first_use", list(FIRST_USE_SCRIPTS), ids=list(FIRST_USE_SCRIPTS))
def test_isolates_are_made_and_freed_on_the_lineage(first_use: str) -> None:
    done = _run_script(RECORDER, WORK, FIRST_USE_SCRIPTS[first_use], "report()")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr[-3000:]
    first, second, _ = done.stdout.strip().splitlines()
    made, freed = int(first.split()[1]), int(first.split()[3])
    assert made >= 20, first
    # Still alive: the stock of prepared isolates and those being freed (exit frees them).
    assert freed >= made - _isolates.MAX_STOCK - 8, first
    assert first.endswith("off-lineage 0"), first
    assert "MainThread" not in second, second
    assert "ThreadPoolExecutor" not in second, second


def test_threads_made_before_the_driver_is_imported() -> None:
    done = _run_script(
        """
        import asyncio, concurrent.futures
        pool = concurrent.futures.ThreadPoolExecutor(4)
        list(pool.map(lambda _: None, range(4)))  # four threads exist before the import

        def use():
            from codemode.isolate import IsolateConfig
            from codemode_node_v8 import create_node_isolate_driver
            async def main():
                driver = create_node_isolate_driver(skip_probe=True)
                context = await driver.create_context(IsolateConfig())
                try:
                    return (await context.execute("return [1, 2, 3].map((x) => x * 2).join()")).value
                finally:
                    await context.dispose()
            return asyncio.run(main())

        print(sorted(pool.map(lambda _: use(), range(4))))
        """
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr[-3000:]
    assert done.stdout.strip() == "['2,4,6', '2,4,6', '2,4,6', '2,4,6']"


def test_making_or_freeing_an_isolate_off_the_lineage_raises() -> None:
    _isolates.start()
    assert not _lineage.member()
    with pytest.raises(LineageError, match="would fault on this thread"):
        NativeContext(lambda *reply: None)
    native = _isolates.run_on_home(lambda: NativeContext(lambda *reply: None))
    try:
        with pytest.raises(LineageError):
            native.free()
    finally:
        _isolates.run_on_home(native.free)
    assert not native.alive
    with pytest.raises(LineageError):
        _lineage.spawn(lambda: None, name="not-allowed")


def test_the_home_thread_and_reapers_are_the_lineage() -> None:
    _isolates.start()
    names = _isolates.run_on_home(lambda: threading.current_thread().name)
    assert names == "codemode-v8-home"
    assert _isolates.run_on_home(_lineage.member)
    assert _isolates.reaper_count() >= 1


# Churn while other contexts run ------------------------------------------------------------


@tool
def add_one(i: int) -> int:
    """A sync tool."""
    return i + 1


async def test_a_thousand_cycles_with_tool_calls_while_other_contexts_run() -> None:
    driver = create_node_isolate_driver()
    tools = bindings(add_one, echo)
    code = "const a = await external_add_one({ i: 1 }); const b = await external_echo({ i: a }); return b.i"
    stop = asyncio.Event()

    async def background(n: int) -> int:
        runs = 0
        while not stop.is_set():
            result = await run_program(
                driver,
                "let t = 0; for (let i = 0; i < 20; i++) t += (await external_echo({ i })).i;"
                " for (let i = 0; i < 1e5; i++) t += i % 3; return t",
                tools,
            )
            assert result.success, result.error
            runs += 1
        return runs

    others = [asyncio.create_task(background(n)) for n in range(3)]
    started = time.perf_counter()
    for _ in range(1000):
        context = await driver.create_context(IsolateConfig(bindings=tools))
        try:
            result = await context.execute(code)
        finally:
            await context.dispose()
        assert result.value == 2, result.error
    elapsed = time.perf_counter() - started
    stop.set()
    assert all(n > 0 for n in await asyncio.gather(*others))
    print(f"1000 cycles in {elapsed:.1f} s with 3 other contexts running")


# Exit and fork -----------------------------------------------------------------------------


def test_exit_frees_live_isolates_on_the_lineage() -> None:
    done = _run_script(
        """
        import atexit
        atexit.register(lambda: report())  # registered first, so it runs after the driver's
        """,
        RECORDER,
        WORK,
        """
        _isolates.start(); instrument()

        async def leave_running():
            driver = create_node_isolate_driver(skip_probe=True)
            await work()
            global kept
            kept = [await driver.create_context(IsolateConfig()) for _ in range(3)]
            running = asyncio.ensure_future(kept[0].execute("while (true) {}"))
            await asyncio.sleep(0.05)

        asyncio.run(leave_running())
        """,
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr[-3000:]
    first, _, alive = done.stdout.strip().splitlines()
    assert first.endswith("off-lineage 0"), first
    assert alive == "alive 0", "isolates were left alive at exit"


def test_a_forked_child_is_refused_v8_and_the_parent_goes_on() -> None:
    done = _run_script(
        """
        import asyncio, os
        from codemode.errors import DriverUnavailableError
        from codemode.isolate import IsolateConfig
        from codemode.testing import run_program
        from codemode_node_v8 import create_node_isolate_driver

        driver = create_node_isolate_driver(skip_probe=True)
        print("parent", asyncio.run(run_program(driver, "return 1")).value, flush=True)
        pid = os.fork()
        if pid == 0:
            try:
                asyncio.run(run_program(driver, "return 2"))
                print("child ran V8", flush=True)
            except DriverUnavailableError as exc:
                print("child refused:", "forked" in str(exc), flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        print("parent", asyncio.run(run_program(driver, "return 3")).value, flush=True)
        """
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr[-3000:]
    assert done.stdout.split("\n")[:3] == ["parent 1", "child refused: True", "parent 3"]


def test_a_child_forked_before_v8_started_can_use_it() -> None:
    done = _run_script(
        """
        import asyncio, os
        from codemode.testing import run_program
        from codemode_node_v8 import create_node_isolate_driver

        pid = os.fork()
        if pid == 0:
            driver = create_node_isolate_driver(skip_probe=True)
            print("child", asyncio.run(run_program(driver, "return 2")).value, flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        """
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr[-3000:]
    assert done.stdout.strip() == "child 2"


def test_protection_keys_are_reported() -> None:
    line = _pkeys.describe()
    print(line)
    assert line.startswith("CPU memory protection keys: pku ")
    assert ("pku yes" in line) == ("pku" in _pkeys.cpu_flags())
