"""A task of the run test workstreams: records its process id, then does what it is told.

    task.py NAME ok
    task.py NAME sleep SECONDS
    task.py NAME fail-unless FILE   (exit status 3 while FILE does not exist)
    task.py NAME fail-quietly       (exit status 4 without a word: no log is written)

The process id goes to ``.pids/NAME.pid`` (written atomically) so that tests can check the
process is gone after a cancel.
"""

import os
import sys
import time
from pathlib import Path

name, mode, *rest = sys.argv[1:]
pids = Path(".pids")
pids.mkdir(exist_ok=True)
partial = pids / f"{name}.pid.tmp"
partial.write_text(str(os.getpid()))
partial.replace(pids / f"{name}.pid")
if mode == "sleep":
    time.sleep(float(rest[0]))
elif mode == "fail-quietly":
    sys.exit(4)
elif mode == "fail-unless" and not Path(rest[0]).exists():
    print(f"{name}: checking {rest[0]}")
    print(f"boom: {rest[0]} is missing", file=sys.stderr)
    sys.exit(3)
print(f"{name} done")
