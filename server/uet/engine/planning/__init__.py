"""Planning a run: everything decided before its first task starts.

``loading`` reads the workstream and the router config, ``spec`` and ``router_config`` are
their typed views, ``scheduler`` orders the task graph, ``routing`` picks the app of each
task and ``plan`` puts it together (or refuses, with every reason at once).
"""
