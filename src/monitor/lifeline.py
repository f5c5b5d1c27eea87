"""Run a Python module as a child that dies with its parent: `python -m monitor.lifeline PARENT_PID MODULE ARGS`
runs `python -m MODULE ARGS` in this process and ends it once PARENT_PID is gone, even when the parent was
SIGKILLed and had no chance to stop it. The Prefect servers `monitor run` and `monitor serve` start go through
here, so no server outlives the command that started it (issue 18).

Two guards: on Linux the kernel sends SIGTERM when the parent dies (PR_SET_PDEATHSIG, kept across exec); everywhere
a daemon thread notices that the parent changed (the orphan is adopted by init or a subreaper) and ends the process.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_SECONDS = 0.5  # how soon an orphan notices its parent is gone; one getppid() call per poll costs nothing
GRACE_SECONDS = 5.0  # SIGTERM lets uvicorn close its database; past this the process exits regardless


def _die_with(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass  # the watchdog below still applies
    if os.getppid() != parent:  # the parent died before the guard was in place
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="lifeline", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_SECONDS)
    os._exit(1)


def main(argv: list[str]) -> None:
    if len(argv) < 2 or not argv[0].isdigit():
        sys.exit("usage: python -m monitor.lifeline PARENT_PID MODULE [ARGS...]")
    _die_with(int(argv[0]))
    sys.argv = [argv[1], *argv[2:]]
    runpy.run_module(argv[1], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
