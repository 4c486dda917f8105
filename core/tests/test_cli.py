"""The codemode command, run as a user runs it: a real process, real files, exit statuses."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEATHER = ROOT / "examples" / "weather"
TOOLS = f"{WEATHER / 'tools.py'}:tools"


def codemode(
    *args: str, stdin: str | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codemode", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=cwd,
        timeout=60,
    )


def test_exec_example_prints_result_and_events() -> None:
    done = codemode("exec", str(WEATHER / "warmest_city.ts"), "--tools", TOOLS)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["success"] is True
    assert result["result"]["warmest"] == {"city": "Cairo", "temp": 29.5, "fahrenheit": 85.1}
    assert result["logs"] == ["checking 5 cities"]
    assert "→ external_list_cities" in done.stderr
    assert "← external_get_current_weather" in done.stderr
    assert "■ finished" in done.stderr


def test_exec_week_summary() -> None:
    done = codemode("exec", str(WEATHER / "week_summary.ts"), "--tools", TOOLS, "--quiet")
    assert done.returncode == 0, done.stderr
    summaries = json.loads(done.stdout)["result"]
    assert [s["city"] for s in summaries] == ["Cairo", "Lisbon", "Tokyo", "Paris", "Oslo"]
    assert {s["city"]: s["verdict"] for s in summaries}["Oslo"] == "pack an umbrella"
    assert done.stderr == ""


def test_exec_failing_program_exits_1_with_the_line() -> None:
    done = codemode("exec", str(WEATHER / "typo.ts"), "--tools", TOOLS)
    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]
    assert error["name"] == "ToolInputError"
    assert error["line"] == 11
    assert "✗ external_get_current_weather" in done.stderr


def test_exec_from_stdin_with_json_events() -> None:
    done = codemode(
        "exec", "-", "--tools", TOOLS, "--json-events", stdin="console.log('hi'); return 7"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"] == 7
    events = [
        json.loads(line)["event"] for line in done.stderr.splitlines() if line.startswith("{")
    ]
    assert events == [
        "code_mode:execution_started",
        "code_mode:console",
        "code_mode:execution_finished",
    ]


def test_exec_events_stream_while_the_program_runs(tmp_path: Path) -> None:
    (tmp_path / "slow_tools.py").write_text(
        "import asyncio\nfrom codemode import tool\n\n"
        "@tool\nasync def wait(seconds: float) -> bool:\n"
        '    """Wait."""\n    await asyncio.sleep(seconds)\n    return True\n'
    )
    program = tmp_path / "slow.ts"
    program.write_text("console.log('first');\nawait external_wait({ seconds: 2 });\nreturn 1")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "codemode",
            "exec",
            str(program),
            "--tools",
            f"{tmp_path / 'slow_tools.py'}:wait",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert process.stderr is not None
    started = time.monotonic()
    seen_first_at = None
    for line in process.stderr:
        if "first" in line:
            seen_first_at = time.monotonic() - started
            break
    process.communicate(timeout=60)
    total = time.monotonic() - started
    assert process.returncode == 0
    assert seen_first_at is not None
    assert seen_first_at < total - 1.5, "the console line only arrived when the program ended"


def test_usage_errors_exit_2() -> None:
    missing = codemode("exec", "nope.ts", "--tools", TOOLS)
    assert missing.returncode == 2
    assert "no such program file: nope.ts" in missing.stderr
    bad_tools = codemode(
        "exec", str(WEATHER / "warmest_city.ts"), "--tools", f"{WEATHER / 'tools.py'}:nothing"
    )
    assert bad_tools.returncode == 2
    assert "has no attribute 'nothing'" in bad_tools.stderr
    bad_driver = codemode(
        "exec", str(WEATHER / "warmest_city.ts"), "--tools", TOOLS, "--driver", "nodejs"
    )
    assert bad_driver.returncode == 2
    assert "no isolate driver named 'nodejs'" in bad_driver.stderr


def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "codemode.toml").write_text("[driver]\ntimeout = -5\n")
    done = codemode("exec", str(WEATHER / "warmest_city.ts"), "--tools", TOOLS, cwd=tmp_path)
    assert done.returncode == 2
    assert "codemode.toml: [driver] timeout: Input should be greater than 0" in done.stderr


def test_prompt() -> None:
    done = codemode("prompt", "--tools", TOOLS)
    assert done.returncode == 0
    assert (
        "declare function external_get_forecast(input: GetForecastInput): Promise<GetForecastOutput>;"
        in done.stdout
    )


def test_plugins() -> None:
    done = codemode("plugins")
    assert done.returncode == 0
    assert "codemode-quickjs" in done.stdout
    assert "drivers:" in done.stdout
    assert "quickjs" in done.stdout


@pytest.mark.skipif(
    importlib.util.find_spec("codemode_node_v8") is None, reason="needs codemode-node-v8"
)
def test_driver_flag_does_not_carry_another_drivers_options(tmp_path: Path) -> None:
    (tmp_path / "codemode.toml").write_text(
        '[driver]\nname = "quickjs"\noptions = { max_stack_size = 262144 }\n'
    )
    program = WEATHER / "warmest_city.ts"
    own = codemode("exec", str(program), "--tools", TOOLS, "-q", cwd=tmp_path)
    assert own.returncode == 0, own.stderr
    # The QuickJS option is not handed to V8 (whose factory does not take it).
    other = codemode("exec", str(program), "--tools", TOOLS, "-q", "--driver", "node", cwd=tmp_path)
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout)["result"] == json.loads(own.stdout)["result"]


def test_a_driver_option_the_factory_does_not_take_exits_2(tmp_path: Path) -> None:
    (tmp_path / "codemode.toml").write_text('[driver]\nname = "quickjs"\noptions = { depth = 3 }\n')
    done = codemode("exec", str(WEATHER / "warmest_city.ts"), "--tools", TOOLS, cwd=tmp_path)
    assert done.returncode == 2
    assert "codemode.toml: [driver] options:" in done.stderr
    assert "max_stack_size" in done.stderr
