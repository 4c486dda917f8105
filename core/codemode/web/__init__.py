"""``codemode serve``: a local web app to watch Code Mode work (extra ``codemode[server]``).

``create_app()`` is the Starlette app: a playground (run a program over the demo shop's
tools, watch its events live, stop it) and, when a model is configured, a chat over the
same tools with Code Mode and skills. Both read the library's own AG-UI SSE stream.
"""

from __future__ import annotations

from codemode.web._app import WebApp, create_app

__all__ = ["WebApp", "create_app"]
