"""``codemode serve`` as a command: what it prints, which addresses and hosts it answers,
how it stops, and its usage errors (no browser needed)."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx

from .conftest import ServeCommand, stop


def test_it_prints_its_url_and_serves_the_page(serve: ServeCommand) -> None:
    served = serve()
    assert served.url.startswith("http://127.0.0.1:")
    page = httpx.get(served.url, timeout=10)
    assert page.status_code == 200
    assert "codemode" in page.text
    assert (served.data_dir / "shop.sqlite3").is_file()
    assert stop(served) == 0
    text = "".join(served.output)
    assert "driver: quickjs" in text
    assert "chat: off" in text
    assert text.rstrip().endswith("codemode serve: stopped")


def test_on_loopback_it_refuses_other_host_names(serve: ServeCommand) -> None:
    served = serve()
    # A page of another site that resolved its own name to 127.0.0.1 (DNS rebinding).
    rebound = httpx.get(served.url + "/api/info", headers={"Host": "attacker.example"}, timeout=10)
    assert rebound.status_code == 400
    port = served.url.rsplit(":", 1)[1]
    local = httpx.get(f"http://localhost:{port}/api/info", timeout=10)
    assert local.status_code == 200


def test_another_address_only_when_named_and_with_a_warning(serve: ServeCommand) -> None:
    served = serve("--host", "0.0.0.0")
    assert served.url.startswith("http://0.0.0.0:")
    port = served.url.rsplit(":", 1)[1]
    assert httpx.get(f"http://127.0.0.1:{port}/api/info", timeout=10).status_code == 200
    assert stop(served) == 0
    assert "warning: listening on 0.0.0.0" in "".join(served.output)


def test_the_configured_model_and_driver_are_used(serve: ServeCommand) -> None:
    served = serve(
        "--driver",
        "node",
        env={"CODEMODE_MODEL_ADAPTER": "openai", "CODEMODE_MODEL_MODEL": "local-model"},
    )
    info = httpx.get(served.url + "/api/info", timeout=10).json()
    assert info["defaultDriver"] == "node"
    assert info["chat"]["enabled"] is True
    assert info["chat"]["model"] == "local-model"
    assert stop(served) == 0
    assert "chat: openai local-model" in "".join(served.output)


def run_serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codemode", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_port_in_use_is_a_usage_error_with_a_hint(tmp_path: object) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_serve("--port", str(port), "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port 0" in result.stderr


def test_an_unknown_driver_is_a_usage_error_naming_the_installed_ones(tmp_path: object) -> None:
    result = run_serve("--driver", "nope", "--port", "0", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "nope" in result.stderr
    assert "quickjs" in result.stderr


def test_without_port_it_takes_8765_or_else_a_free_one(serve: ServeCommand) -> None:
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            taken.bind(("127.0.0.1", 8765))
            taken.listen(1)
        except OSError:
            pass  # something else holds it already: the same case
        served = serve(port=None)
        assert not served.url.endswith(":8765")
        assert "port 8765 is taken; using" in "".join(served.output)
        assert httpx.get(served.url + "/api/info", timeout=10).status_code == 200
        assert stop(served) == 0
