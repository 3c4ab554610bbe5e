"""Executing a planned run: its threads, processes, retries and progress.

``start`` and ``resume`` are the entry points; ``handle`` is what callers hold;
``session`` is the live state the run's threads share; ``dispatch`` hands ready tasks to
the ``jobs`` pool, where ``attempts`` runs each task's attempts through ``resilience``
(retries, breakers), ``slots`` (per-app limits) and ``validators``; ``progress`` tells
subscribers; ``ownership``, ``process_record``, ``reaper``, ``orphans`` and ``control``
(cancelling) make sure nothing outlives its run; ``monitor`` answers questions about runs
past and present.
"""
