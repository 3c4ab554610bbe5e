"""The run store: one SQLite database per workspace and everything that reads or writes it.

``database`` opens it, ``migrations`` define its schema, ``writer`` applies a run's writes
from one thread, ``transitions`` moves runs and step attempts between the states
``lifecycle`` defines, ``records`` and ``monitor`` read rows back as artifacts and answers,
``task_diagnostics`` turns results into diagnostics on a workstream file.
"""
