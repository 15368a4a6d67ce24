"""Worker processes never outlive the process that started them, even after kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from experiments.workers import available_cores

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").exists(), reason="finds the workers through Linux /proc"
)

FORKED_EXPERIMENT = """
    import time
    from pathlib import Path

    import experiments.workers
    from experiments import sweep

    experiments.workers.KERNEL_PARENT_DEATH_SIGNAL = {kernel}

    def run_for_two_minutes(config, run_dir):
        Path(run_dir).touch()
        time.sleep(120)
        return run_dir

    sweep._run_one = run_for_two_minutes
    specs = [sweep.RunSpec(None, f"{{i:016x}}", 0, "grid", ()) for i in range(4)]
    for _ in sweep._execute(specs, Path("."), 2):
        pass
"""

JOBLIB_SWEEP = """
    import time
    from pathlib import Path

    from joblib import Parallel, delayed

    from experiments.callbacks import WorkersExitWithCogov

    def hydra_job(index):
        Path(f"started-{index}").touch()
        time.sleep(120)

    WorkersExitWithCogov().on_multirun_start(config=None)
    Parallel(n_jobs=2, backend="loky")(delayed(hydra_job)(i) for i in range(2))
"""


def children(pid: int) -> set[int]:
    """The living child processes of ``pid``."""
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            continue
    return {child for child in found if alive(child)}


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    """Whether ``condition()`` becomes true within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def survivors_of_kill_9(command: list[str], cwd: Path, ready: Callable[[int], bool]) -> set[int]:
    """Start ``command`` in ``cwd``; once ``ready(its pid)``, kill -9 it and return its
    child processes still alive a few seconds later (then kill those)."""
    parent = subprocess.Popen(command, cwd=cwd)
    started: set[int] = set()
    try:
        assert wait_for(lambda: ready(parent.pid), 300), "the workers never started"
        started = children(parent.pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        wait_for(lambda: not any(alive(pid) for pid in started), 20)
        return {pid for pid in started if alive(pid)}
    finally:
        parent.kill()
        for pid in started:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def python(script: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(script)]


def files(folder: Path, pattern: str, count: int) -> Callable[[int], bool]:
    """Whether ``count`` files matching ``pattern`` are in ``folder`` (whatever the pid)."""
    return lambda pid: len(list(folder.glob(pattern))) >= count


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel signal", "watching thread"])
def test_forked_experiment_workers_exit_when_the_experiment_is_killed(tmp_path, kernel):
    command = python(FORKED_EXPERIMENT.format(kernel=kernel))
    assert survivors_of_kill_9(command, tmp_path, files(tmp_path, "0*", 2)) == set()


def two_loky_workers(pid: int) -> bool:
    """Whether ``pid`` has started two loky worker processes (which may still be starting)."""
    commands = []
    for child in children(pid):
        try:
            commands.append(Path(f"/proc/{child}/cmdline").read_bytes())
        except OSError:
            continue
    return sum(b"popen_loky_posix" in command for command in commands) >= 2


@pytest.mark.parametrize("killed", ["at work", "starting"])
def test_joblib_workers_exit_when_the_sweep_is_killed_while_they_work_or_start(tmp_path, killed):
    ready = files(tmp_path, "started-*", 2) if killed == "at work" else two_loky_workers
    assert survivors_of_kill_9(python(JOBLIB_SWEEP), tmp_path, ready) == set()


def test_available_cores_are_those_this_process_may_use():
    assert 1 <= available_cores() <= (os.cpu_count() or 1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "args,jobs_started",
    [
        (
            [
                "experiment=compare_structures",
                "experiment.seeds=30",
                "world.width=20",
                "world.height=20",
                "steps=60",
                "metrics.burn_in=0",  # the default burn-in (150 days) is longer than this run
            ],
            "results/runs",  # appears when the first run ends; the workers are busy
        ),
        (
            ["-m", "seed=range(40)", "world.width=20", "world.height=20", "hydra/launcher=joblib"],
            "outputs/sweeps/*/*/[0-9]/.hydra",  # the first jobs have started
        ),
    ],
    ids=["experiment", "joblib sweep"],
)
def test_a_killed_cogov_command_leaves_no_worker(tmp_path, args, jobs_started):
    command = [sys.executable, "-m", "experiments.cli", *args]
    busy = files(tmp_path, jobs_started, 1)
    assert survivors_of_kill_9(command, tmp_path, busy) == set()
