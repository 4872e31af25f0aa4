"""scripts/serve (what scripts/run starts once it has set up): web, worker and beat stop
together, within STOP_TIMEOUT, on Ctrl-C (SIGINT to the terminal's process group) and on
SIGTERM to the process group, as a supervisor or `kill -TERM -- -PGID` sends it.

Real processes on a free port, with a temporary VAR_DIR: SQLite and the embedded broker there,
so nothing here touches the test run's database or Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from devtools.processes import BASE_DIR, await_condition, free_port

pytestmark = pytest.mark.slow

STOP_TIMEOUT = 10  # what the test gives scripts/serve (its default is 30)
MARGIN = 5  # for the script's own polling and a loaded machine
# The script, worker + 2 pool processes, beat, gunicorn + 2 workers.
PROCESSES = 8


def _zero_setup_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return {**env, "VAR_DIR": str(var_dir), "PYTHONUNBUFFERED": "1", **extra}


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory) -> Path:
    """A migrated zero-setup installation (what scripts/run prepares before serving)."""
    path = tmp_path_factory.mktemp("serve-var")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=BASE_DIR,
        env=_zero_setup_env(path),
        check=True,
        capture_output=True,
        timeout=300,
    )
    return path


def _descendants(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    found = []
    for child in map(int, children):
        found += [child, *_descendants(child)]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's reaping is left


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def serve(var_dir, tmp_path):
    """Start scripts/serve in a process group of its own, as a terminal or a supervisor
    would; yield it once everything is up; kill whatever a failing test left behind."""
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(BASE_DIR / "scripts" / "serve")],
            cwd=BASE_DIR,
            env=_zero_setup_env(var_dir, PORT=str(port), STOP_TIMEOUT=str(STOP_TIMEOUT)),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    tree: list[int] = []
    try:
        await_condition(
            lambda: _healthy(port) and len(_descendants(process.pid)) + 1 >= PROCESSES,
            timeout=180,
            interval=0.3,
            message="web, worker (with its pool) and beat up",
            on_timeout=lambda: log_path.read_text(errors="replace")[-4000:],
        )
        tree = [process.pid, *_descendants(process.pid)]
        yield process, tree, log_path
    finally:
        for pid in tree:
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _stops_within_the_bound(serve, signum: int) -> float:
    process, tree, log_path = serve
    assert len(tree) >= PROCESSES

    started = time.monotonic()
    os.killpg(process.pid, signum)  # the whole group, as Ctrl-C and `kill -- -PGID` do

    def all_gone() -> bool:
        process.poll()  # reap the script itself
        return not [pid for pid in tree if _alive(pid)]

    await_condition(
        all_gone,
        timeout=STOP_TIMEOUT + MARGIN,
        interval=0.1,
        message="every process of scripts/serve to exit",
        on_timeout=lambda: (
            f"alive: {[pid for pid in tree if _alive(pid)]}\n"
            + log_path.read_text(errors="replace")[-4000:]
        ),
    )
    return time.monotonic() - started


def test_sigterm_to_the_process_group_stops_all_three_in_bounded_time(serve):
    _stops_within_the_bound(serve, signal.SIGTERM)

    process, _, _ = serve
    assert process.returncode == 0  # a requested stop is a clean exit


def test_ctrl_c_stops_all_three_in_bounded_time(serve):
    _stops_within_the_bound(serve, signal.SIGINT)

    process, _, _ = serve
    assert process.returncode == 0


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_a_worker_that_does_not_stop_is_killed_at_the_bound(serve):
    # A stopped (SIGSTOP) worker stands for one stuck in its warm shutdown: it cannot act on
    # SIGTERM, so only the bound ends it.
    process, _, log_path = serve
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    # The worker's main process (its pool processes, grandchildren here, share its cmdline).
    [worker] = [int(pid) for pid in children if " worker " in _cmdline(int(pid))]
    os.kill(worker, signal.SIGSTOP)

    took = _stops_within_the_bound(serve, signal.SIGTERM)

    assert took >= STOP_TIMEOUT - 1  # it was given its time first
    assert "killing what is left" in log_path.read_text(errors="replace")
