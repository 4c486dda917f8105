"""QuickJS isolate driver for codemode: ``pip install codemode-quickjs``, driver ``quickjs``."""

from codemode_quickjs._driver import (
    DEFAULT_MAX_STACK_SIZE,
    QuickJSIsolateDriver,
    create_quickjs_isolate_driver,
)

__all__ = ["DEFAULT_MAX_STACK_SIZE", "QuickJSIsolateDriver", "create_quickjs_isolate_driver"]
