"""The engine as a Python library: the original UET's classes over the engine's own parts.

``ExecutionScheduler``, ``ProgressTracker``, ``RunMonitor``, ``ResilientExecutor`` and
``AdapterRegistry`` (exported by :mod:`uet.engine`; ``docs/library.md`` shows them) are
thin: each wraps the module ``uet run`` uses for the same job, so a program that drives
tasks itself gets the engine's behaviour, not a second implementation of it. This is the
engine's top layer: nothing else in the engine imports it.
"""
