"""Loggers that import :mod:`logging` only when something is logged.

``logging`` brings ``traceback``, ``linecache``, ``tokenize``, ``string`` and ``weakref``
along: ~5 ms of start-up, measured on ``uet run``, which logs nothing when all goes well.
The modules on the command line's hot paths take their logger from :func:`get_logger`
instead of ``logging.getLogger``; the real logger is made on the first record, and the
command line's configuration (:func:`configure`, ``logging.basicConfig`` arguments) is
applied then, or at once when ``logging`` is loaded already.

Records keep their caller: every method passes ``stacklevel`` so that ``%(funcName)s`` and
``%(lineno)d`` name the line that logged, not this module.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import logging
    from typing import Any

__all__ = ["LazyLogger", "configure", "get_logger"]

# The basicConfig arguments waiting for logging to be imported (empty: none wait).
_pending: list[dict[str, Any]] = []


def configure(**settings: Any) -> None:
    """``logging.basicConfig(**settings)``: now if ``logging`` is loaded, else when the first
    lazy logger logs. (``basicConfig`` changes nothing once the root logger has handlers,
    so a program that set up logging its own way keeps it.)"""
    if "logging" in sys.modules:
        import logging

        logging.basicConfig(**settings)
    else:
        _pending[:] = [settings]


def get_logger(name: str) -> LazyLogger:
    """The logger ``name``, made on its first record."""
    return LazyLogger(name)


def _load(name: str) -> logging.Logger:
    import logging

    if _pending:
        settings = _pending.pop()
        logging.basicConfig(**settings)
    return logging.getLogger(name)


class LazyLogger:
    """The part of :class:`logging.Logger` the engine uses, imported on first use."""

    __slots__ = ("_logger", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: logging.Logger | None = None

    @property
    def logger(self) -> logging.Logger:
        """The real logger (imports ``logging`` the first time)."""
        if self._logger is None:
            self._logger = _load(self.name)
        return self._logger

    def debug(self, msg: object, *args: object, **kwargs: Any) -> None:
        """``Logger.debug``."""
        self.logger.debug(msg, *args, stacklevel=2, **kwargs)

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        """``Logger.info``."""
        self.logger.info(msg, *args, stacklevel=2, **kwargs)

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        """``Logger.warning``."""
        self.logger.warning(msg, *args, stacklevel=2, **kwargs)

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        """``Logger.error``."""
        self.logger.error(msg, *args, stacklevel=2, **kwargs)

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        """``Logger.exception`` (the exception being handled is logged with the message)."""
        self.logger.exception(msg, *args, stacklevel=2, **kwargs)
