"""The Cloudflare isolate driver: programs run in a Worker, tools stay on the host.

A context is one execution against the Worker at ``worker_url``, in one of two protocols:
``"connected"`` (a WebSocket for the whole execution, the default) or ``"replay"`` (TanStack
AI's request/response rounds). Either way the host loop of ``codemode.sandbox`` runs the
tools, enforces the deadline and the bounds, and turns every failure, the Worker's included,
into a named result.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from codemode.errors import ConfigError
from codemode.isolate import DEFAULT_TIMEOUT_MS, IsolateConfig
from codemode.sandbox import (
    DEFAULT_MAX_CONCURRENCY,
    Engine,
    HostDrivenDriver,
    check_driver_options,
    prelude_config,
)
from codemode_cloudflare._connected import ConnectedEngine
from codemode_cloudflare._replay import ReplayEngine

Protocol = Literal["connected", "replay"]
PROTOCOLS: Final[tuple[str, ...]] = get_args(Protocol)
DEFAULT_MAX_TOOL_ROUNDS: Final = 10


class CloudflareIsolateDriver(HostDrivenDriver):
    """Makes contexts that run their program in the Worker at ``worker_url``.

    ``timeout`` is code mode's default (ms); ``max_tool_rounds`` bounds replay mode's rounds.
    """

    def __init__(
        self,
        worker_url: str,
        *,
        authorization: str | None = None,
        timeout: int = DEFAULT_TIMEOUT_MS,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        protocol: Protocol = "connected",
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    ) -> None:
        if not isinstance(worker_url, str) or not worker_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"Cloudflare driver option worker_url must be an http:// or https:// URL,"
                f" got {worker_url!r}"
            )
        if protocol not in PROTOCOLS:
            raise ConfigError(
                f"Cloudflare driver option protocol must be one of {', '.join(PROTOCOLS)},"
                f" got {protocol!r}"
            )
        if authorization is not None and not isinstance(authorization, str):
            raise ConfigError("Cloudflare driver option authorization must be a string")
        check_driver_options(
            "Cloudflare",
            {
                "timeout": timeout,
                "max_tool_rounds": max_tool_rounds,
                "max_concurrency": max_concurrency,
            },
        )
        super().__init__(max_concurrency=max_concurrency)
        self.worker_url = worker_url
        self.authorization = authorization
        self.timeout = timeout
        self.max_tool_rounds = max_tool_rounds
        self.protocol: Protocol = protocol

    async def make_engine(self, config: IsolateConfig) -> Engine:
        if self.protocol == "replay":
            return ReplayEngine(self.worker_url, self.authorization, config, self.max_tool_rounds)
        return ConnectedEngine(self.worker_url, self.authorization, prelude_config(config))

    def __repr__(self) -> str:
        # The authorization is a secret: never in a repr.
        return (
            f"CloudflareIsolateDriver({self.worker_url!r}, protocol={self.protocol!r},"
            f" timeout={self.timeout}, max_tool_rounds={self.max_tool_rounds})"
        )


def create_cloudflare_isolate_driver(
    worker_url: str,
    authorization: str | None = None,
    timeout: int = DEFAULT_TIMEOUT_MS,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    protocol: Protocol = "connected",
) -> CloudflareIsolateDriver:
    """A driver for the codemode Worker (or TanStack AI's, with ``protocol="replay"``) at
    ``worker_url``. ``authorization`` is sent as the ``Authorization`` header (the Worker's
    secret, or ``"Bearer <secret>"``); ``timeout`` in ms is code mode's default."""
    return CloudflareIsolateDriver(
        worker_url,
        authorization=authorization,
        timeout=timeout,
        max_tool_rounds=max_tool_rounds,
        protocol=protocol,
    )
