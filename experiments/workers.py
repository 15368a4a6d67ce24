"""Worker processes: how many this machine gives us, and that none outlives its parent.

A worker blocked on its task queue would wait forever (holding its memory) if the process
that started it were killed. :func:`exit_with_parent` makes it exit instead: at once on
Linux, where the kernel sends it SIGKILL when the parent dies (``PR_SET_PDEATHSIG``), and
within WATCH_INTERVAL seconds elsewhere, where a thread watches the parent's process id.
The experiment's forked pool and joblib's loky workers both start with it.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys
import threading
import time

WATCH_INTERVAL = 0.5  # seconds between two looks at the parent process
PR_SET_PDEATHSIG = 1  # prctl option: the signal this process gets when its parent dies
KERNEL_PARENT_DEATH_SIGNAL = sys.platform.startswith("linux")  # whether prctl can do it


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity, where the system tells)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def exit_with_parent(parent_pid: int) -> None:
    """Make this process exit when ``parent_pid``, its parent, dies (a worker's initializer)."""
    if KERNEL_PARENT_DEATH_SIGNAL:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # it died before the kernel was told
        os._exit(1)
    watcher = threading.Thread(target=_watch, args=(parent_pid,), name="watch-parent", daemon=True)
    watcher.start()


def _watch(parent_pid: int) -> None:
    """Exit the process as soon as it has been handed to another parent (its own died)."""
    while os.getppid() == parent_pid:
        time.sleep(WATCH_INTERVAL)
    os._exit(1)


def loky_workers_exit_with_this_process() -> None:
    """Start every worker of joblib's loky backend (Hydra's joblib launcher) from now on
    with :func:`exit_with_parent` for this process, before it takes any job."""
    from joblib.parallel import BACKENDS, register_parallel_backend

    loky = functools.partial(
        BACKENDS["loky"], initializer=exit_with_parent, initargs=(os.getpid(),)
    )
    register_parallel_backend("loky", loky)
