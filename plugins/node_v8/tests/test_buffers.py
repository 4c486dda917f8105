"""ArrayBuffer and typed-array memory counts against the V8 driver's memory limit.

V8 keeps these bytes outside its heap, where its own limit does not see them; without the
accounting in buffers.js a program could exhaust the host's memory under any limit.
"""

from __future__ import annotations

import psutil
import pytest

from codemode.isolate import IsolateDriver
from codemode.testing import run_program
from codemode_node_v8 import create_node_isolate_driver


@pytest.fixture(scope="module")
def driver() -> IsolateDriver:
    return create_node_isolate_driver()


@pytest.mark.parametrize(
    "code",
    [
        "const big = new Uint8Array(64 * 1024 * 1024);\nreturn big.length",
        "const kept = [];\nfor (let i = 0; i < 1000; i++) kept.push(new Float64Array(1 << 20));\nreturn kept.length",
        "const b = new ArrayBuffer(48 * 1024 * 1024);\nreturn b.byteLength",
        "const a = new Uint8Array(20 * 1024 * 1024);\na.constructor = undefined;\nreturn a.slice().length + a.slice().length",
        "const b = new ArrayBuffer(0, { maxByteLength: 2 ** 40 });\nreturn b.byteLength",
        "return new Uint8Array({ length: 1e9 }).length",
    ],
)
async def test_allocations_past_the_limit_end_the_program(driver: IsolateDriver, code: str) -> None:
    rss_before = psutil.Process().memory_info().rss
    result = await run_program(driver, code, memory_limit=32)
    assert result.error is not None
    assert result.error.name == "MemoryLimitError"
    assert "32 MB" in result.error.message
    assert psutil.Process().memory_info().rss - rss_before < 200 * 1024 * 1024


async def test_limit_error_points_at_the_program_line(driver: IsolateDriver) -> None:
    result = await run_program(
        driver, "const ok = 1;\n\nconst big = new Uint8Array(2 ** 30);", memory_limit=32
    )
    assert result.error is not None
    assert (result.error.name, result.error.line) == ("MemoryLimitError", 3)


async def test_ordinary_typed_array_code_is_unaffected(driver: IsolateDriver) -> None:
    code = (
        "class Vec extends Float32Array {}\n"
        "const sieve = new Uint8Array(2_000_001);\n"
        "const view = new DataView(new ArrayBuffer(16));\n"
        "return [new Vec(3) instanceof Float32Array, sieve.length, Uint8Array.from([1, 2]).length,"
        " view.byteLength, new Uint8Array(new Set([1, 2, 3])).length, typeof SharedArrayBuffer,"
        " Object.getPrototypeOf(new Uint8Array(1)).constructor === Uint8Array]"
    )
    result = await run_program(driver, code)
    assert result.success, result.error
    assert result.value == [True, 2_000_001, 2, 16, 3, "undefined", True]


async def test_driver_works_after_the_limit(driver: IsolateDriver) -> None:
    await run_program(driver, "new Uint8Array(2 ** 31)", memory_limit=32)
    assert (await run_program(driver, "return new Uint8Array(1000).length")).value == 1000
