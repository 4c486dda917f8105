"""The Cloudflare driver passes the shared driver conformance suite through a real workerd,
in both protocols."""

from __future__ import annotations

import pytest

from codemode.isolate import IsolateDriver
from codemode.testing import DriverConformance, run_program
from codemode_cloudflare import create_cloudflare_isolate_driver

from .conftest import AUTHORIZATION, Watched


class TestConnectedConformance(DriverConformance):
    @pytest.fixture
    def driver(self, workerd: Watched) -> IsolateDriver:
        return workerd.driver()


class TestReplayConformance(DriverConformance):
    @pytest.fixture
    def driver(self, workerd: Watched) -> IsolateDriver:
        return workerd.driver(protocol="replay")


@pytest.mark.parametrize("protocol", ["connected", "replay"])
@pytest.mark.parametrize(
    "expression",
    [
        "eval('typeof process')",
        "Function('return typeof process')()",
        "({}).constructor.constructor('return typeof require')()",
        "(async () => {}).constructor('return typeof fetch')()",
    ],
)
async def test_code_from_strings_is_refused(
    workerd: Watched, protocol: str, expression: str
) -> None:
    driver = create_cloudflare_isolate_driver(
        workerd.url,
        authorization=AUTHORIZATION,
        protocol=protocol,  # type: ignore[arg-type]
    )
    result = await run_program(driver, f"return {expression}")
    assert result.error is not None
    assert result.error.name == "EvalError"
