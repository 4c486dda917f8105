"""The bare engines under W4 and W6: the same JavaScript without codemode's sandbox.

Usage (from the workspace root):

    python3 -m uv run --all-packages python benchmarks/engines.py [--rounds 15]

Splits what the engines cost from what codemode adds. Each sample is a fresh context
(QuickJS: a ``quickjs.Context``; V8: a mini-racer isolate, made on the V8 driver's home
thread with mini-racer's default flags, as the driver makes them), with no prelude, guards,
limits or turn protocol, timed inside the JavaScript with ``Date.now()``:

- W4: the sieve of ``programs/sieve.ts`` (types removed by hand), to 2,000,000;
- W6: ``JSON.parse`` of the delivery text W6's tool result becomes, then the sum by group
  of ``programs/sum_by_group.ts``;
- W6 host: pydantic's JSON-mode dump of the 20,000 rows and the ``orjson`` encoding of the
  result, timed in Python (what codemode does to a tool result before it crosses).

Prints one JSON object of medians in ms on stdout. Timings are wall clock: run it when the
machine is quiet, or interleave it with ``run.py`` and compare medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
import pydantic
from _workloads import ROW_COUNT, Row, _rows

SIEVE = """
function sieve(limit) {
  const composite = new Uint8Array(limit + 1);
  let primes = 0;
  let largest = 0;
  for (let n = 2; n <= limit; n++) {
    if (composite[n] !== 0) continue;
    primes++;
    largest = n;
    for (let multiple = n * n; multiple <= limit; multiple += n) {
      composite[multiple] = 1;
    }
  }
  return { limit, primes, largest };
}
"""
W4_SCRIPT = SIEVE + "const t0 = Date.now(); sieve(2000000); JSON.stringify([Date.now() - t0]);"
W6_FUNCTION = """(function (text) {
  const t0 = Date.now();
  const rows = JSON.parse(text).results[0][2];
  const t1 = Date.now();
  const sums = {};
  for (const row of rows) {
    sums[row.group] = (sums[row.group] ?? 0) + row.value;
  }
  return JSON.stringify([t1 - t0, Date.now() - t1]);
})"""


def delivery() -> str:
    """The text W6's tool result is delivered as: ``{"v": 1, "results": [[id, ok, rows]]}``."""
    adapter = pydantic.TypeAdapter(list[Row])
    data = adapter.dump_python(list(_rows(ROW_COUNT)), mode="json")
    return '{"v":1,"results":[' + orjson.dumps([1, True, data]).decode() + "]}"


def host_figures(rounds: int) -> dict[str, float]:
    adapter = pydantic.TypeAdapter(list[Row])
    rows = list(_rows(ROW_COUNT))
    dump, encode = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        data = adapter.dump_python(adapter.validate_python(rows), mode="json")
        dumped = time.perf_counter()
        orjson.dumps([1, True, data]).decode()
        dump.append((dumped - started) * 1000)
        encode.append((time.perf_counter() - dumped) * 1000)
    return {"W6 host: pydantic validate + dump": _median(dump), "W6 host: orjson": _median(encode)}


def quickjs_figures(rounds: int, text: str) -> dict[str, float]:
    import quickjs

    sieve, parse, total = [], [], []
    for _ in range(rounds):
        sieve.append(json.loads(quickjs.Context().eval(W4_SCRIPT))[0])
        started = time.perf_counter()
        inner = json.loads(quickjs.Context().eval(W6_FUNCTION)(text))
        total.append((time.perf_counter() - started) * 1000)
        parse.append(inner)
    return {
        "quickjs W4: sieve": _median(sieve),
        "quickjs W6: JSON.parse": _median([p[0] for p in parse]),
        "quickjs W6: sum": _median([p[1] for p in parse]),
        "quickjs W6: call with the text": _median(total),
    }


class _Isolate:
    """A bare mini-racer isolate; ``run`` evaluates a script and waits for its text."""

    def __init__(self) -> None:
        from codemode_node_v8 import _isolates, _native

        self._done = threading.Event()
        self._text: str | None = None
        self.native = _isolates.run_on_home(lambda: _native.NativeContext(self._receive))

    def _receive(self, callback_id: int, kind: int, text: str | None, handle: int) -> None:
        if handle:
            self.native.free_value(handle)
        self._text = text
        self._done.set()

    def run(self, script: str) -> str:
        self._done.clear()
        self.native.eval(script, 1)
        self._done.wait()
        if self._text is None:
            raise RuntimeError("the script returned no text")
        return self._text

    def free(self) -> None:
        from codemode_node_v8 import _isolates

        _isolates.release(self.native)


def v8_figures(rounds: int, text: str) -> dict[str, float]:
    from codemode_node_v8 import _isolates

    _isolates.start()
    sieve, parse = [], []
    for _ in range(rounds):
        isolate = _Isolate()
        sieve.append(json.loads(isolate.run(W4_SCRIPT))[0])
        isolate.free()
        isolate = _Isolate()
        parse.append(json.loads(isolate.run(f"{W6_FUNCTION}({json.dumps(text)})")))
        isolate.free()
    return {
        "v8 W4: sieve": _median(sieve),
        "v8 W6: JSON.parse": _median([p[0] for p in parse]),
        "v8 W6: sum": _median([p[1] for p in parse]),
    }


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    text = delivery()
    figures: dict[str, Any] = {"rounds": args.rounds, "delivery_chars": len(text)}
    parts: list[Callable[[], dict[str, float]]] = [
        lambda: host_figures(args.rounds),
        lambda: quickjs_figures(args.rounds, text),
        lambda: v8_figures(args.rounds, text),
    ]
    for part in parts:
        figures |= part()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
