"""Real processes a test, a benchmark or the load command starts itself, on 127.0.0.1 and free
ports: a Redis server, a PostgreSQL cluster, Celery workers and beat, gunicorn. Nothing here
touches the machine's shared services; every process is in its own process group, so SIGKILL
takes a Celery worker's pool children with it, and every log goes to a file a failing test can
print.

No Django imports: bench/load uses this module from a plain Python process.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def await_condition(
    condition: Callable[[], Any],
    *,
    timeout: float,
    interval: float = 0.1,
    message: str = "condition",
    tick: Callable[[], Any] | None = None,
    on_timeout: Callable[[], str] | None = None,
) -> Any:
    """Poll until `condition()` is truthy and return its value; `tick` runs between polls
    (e.g. the relay, standing in for celery beat). AssertionError (with `on_timeout()`'s text,
    e.g. process logs) after `timeout` seconds. The one poller of the tests and the bench."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{on_timeout()}" if on_timeout else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {message}{extra}")
        if tick is not None:
            tick()
        time.sleep(interval)


def children_of(pid: int) -> list[int]:
    """Pids of the direct children of `pid`, whichever of its threads forked them."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.extend(int(child) for child in (task / "children").read_text().split())
    except OSError:
        pass
    return found


def rss_kb(pid: int) -> int:
    """Resident memory of process `pid` in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def socket_owner(local_port: int, pids: list[int]) -> int | None:
    """Which of `pids` holds the TCP socket whose local port is `local_port` (127.0.0.1)?
    Lets a test find the Celery pool process that is talking to its receiver right now."""
    inodes = set()
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if len(parts) > 9 and int(parts[1].rsplit(":", 1)[1], 16) == local_port:
            inodes.add(f"socket:[{parts[9]}]")
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
            except OSError:
                continue
    return None


# ---------------------------------------------------------------------------------------------
# Generic supervised process


class Service:
    """One subprocess in its own process group, logging to `log_dir/<name>.log` (appended
    across restarts, so the log tells the whole story of a test)."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str],
        log_dir: Path,
        cwd: Path = BASE_DIR,
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log_path = Path(log_dir) / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> Service:
        if self.alive:
            raise RuntimeError(f"{self.name} is already running")
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts} at {time.strftime('%X')} =====\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # a process group of its own
            )
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown handler runs, nothing is acked."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self.process = None

    def children(self) -> list[int]:
        """Pids of the direct children (a Celery prefork worker's pool processes)."""
        if not self.alive:
            return []
        return children_of(self.process.pid)  # type: ignore[union-attr]

    def kill_child(self, pid: int) -> None:
        """SIGKILL one pool process; the parent lives on and forks a replacement."""
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (warm shutdown), then SIGKILL if it does not go in time."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=timeout)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                self.kill()
                return
        # Reap pool children left in the group, if any survived their parent.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process = None

    def log_text(self, tail: int = 8_000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return text[-tail:]


class Services:
    """Every process a test started; `close()` stops them all (fixture teardown)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = Path(log_dir)
        self.items: list[Service] = []

    def add(self, service: Service) -> Service:
        self.items.append(service)
        return service

    def close(self) -> None:
        for service in reversed(self.items):
            service.stop(timeout=10)

    def logs(self) -> str:
        return "\n".join(f"--- {s.name} ---\n{s.log_text()}" for s in self.items)


# ---------------------------------------------------------------------------------------------
# Environment of the service processes


def service_env(*, database_url: str, redis_url: str, **overrides: Any) -> dict[str, str]:
    """Settings for worker/beat/web subprocesses: short leases and relay ticks so faults heal
    in seconds, private URLs allowed for the local webhook receivers."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "AUTOMATIONS_ALLOW_PRIVATE_URLS": "true",
        "AUTOMATIONS_RUN_LEASE": "3",
        "AUTOMATIONS_RELAY_INTERVAL": "1",
        "AUTOMATIONS_REDISPATCH_AFTER": "5",
        "AUTOMATIONS_RETRY_DELAYS": "0.5,0.5,0.5,0.5,0.5",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def celery_worker(
    name: str,
    *,
    env: dict[str, str],
    log_dir: Path,
    concurrency: int = 2,
    loglevel: str = "INFO",
    include: Sequence[str] = (),
) -> Service:
    """`celery -A config worker` with a prefork pool of `concurrency` processes; `include`
    loads more task modules (the benchmark's no-op task)."""
    return Service(
        name,
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            "-c",
            str(concurrency),
            *(f"--include={module}" for module in include),
            "-n",
            f"{name}-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--loglevel={loglevel}",
        ],
        env=env,
        log_dir=log_dir,
    )


def celery_beat(name: str, *, env: dict[str, str], log_dir: Path) -> Service:
    # DatabaseScheduler (settings.CELERY_BEAT_SCHEDULER) reads django-celery-beat's tables;
    # --max-interval 1 lets it notice the 1 s relay interval.
    return Service(
        name,
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "beat",
            "--max-interval",
            "1",
            "--loglevel=INFO",
        ],
        env=env,
        log_dir=log_dir,
    )


def gunicorn(
    name: str,
    *,
    env: dict[str, str],
    log_dir: Path,
    port: int,
    workers: int,
    threads: int | None = 4,
) -> Service:
    """The web app under gunicorn on 127.0.0.1:`port`: `threads` threads per worker
    (gthread), or sync workers with `threads=None`, as the benchmark's API figures use."""
    if threads is None:
        worker_class = ["--worker-class", "sync"]
    else:
        worker_class = ["--worker-class", "gthread", "--threads", str(threads), "--timeout", "60"]
    return Service(
        name,
        [
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            *worker_class,
            "--log-level",
            "warning",
        ],
        env=env,
        log_dir=log_dir,
    )


def manage(args: list[str], *, env: dict[str, str], timeout: float = 300) -> str:
    """Run `manage.py <args>` to completion; its output, or CalledProcessError."""
    result = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode:
        raise subprocess.CalledProcessError(
            result.returncode, result.args, result.stdout, result.stderr
        )
    return result.stdout


# ---------------------------------------------------------------------------------------------
# Redis


class RedisServer:
    """redis-server on a free port (kept across restarts), no persistence: a restart loses
    every queued message, the harshest broker failure."""

    def __init__(self, folder: Path, *, port: int | None = None) -> None:
        self.folder = Path(folder)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self, timeout: float = 15.0) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        await_condition(self.ping, timeout=timeout, message=f"redis on port {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


# ---------------------------------------------------------------------------------------------
# PostgreSQL


class PostgresCluster:
    """A PostgreSQL cluster of our own: initdb into a temporary folder, pg_ctl on a free port,
    unix socket in that folder, trust authentication for 127.0.0.1 only.

    PostgreSQL refuses to run as root, so as root every server command runs as the `postgres`
    OS user (runuser) and the folder belongs to it. fsync is off: a test restarts the server,
    it does not lose power."""

    def __init__(self, *, port: int | None = None) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if found:
            self.bin = Path(found[-1]).parent
        elif shutil.which("initdb"):
            self.bin = Path(shutil.which("initdb")).parent  # type: ignore[arg-type]
        else:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.port = port or free_port()
        # Not under pytest's tmp_path: that is root-only (0700), and the server runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.restarts = 0

    @staticmethod
    def available() -> tuple[bool, str]:
        if not glob.glob("/usr/lib/postgresql/*/bin/initdb") and not shutil.which("initdb"):
            return False, "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                return False, "running as root without runuser to drop to the postgres user"
            try:
                import pwd

                pwd.getpwnam("postgres")
            except KeyError:
                return False, "running as root and there is no postgres OS user"
        return True, ""

    def _cmd(self, *args: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def _run(self, *args: str, timeout: float = 120) -> str:
        # Output goes through a file, not a pipe: a server that pg_ctl starts inherits it, and
        # a pipe would then never reach end-of-file.
        with tempfile.TemporaryFile() as out:
            code = subprocess.run(
                self._cmd(*args),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            ).returncode
            out.seek(0)
            text = out.read().decode(errors="replace")
        if code:
            raise RuntimeError(f"{' '.join(args)} failed ({code}):\n{text}\n{self.log_text()}")
        return text

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def restart(self, mode: str = "fast") -> None:
        """pg_ctl restart: every connection is cut; returns once the server accepts again."""
        self.restarts += 1
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-m", mode,
            "-w", "-t", "60", "restart",
        )  # fmt: skip

    def stop(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        except RuntimeError:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, dbname: str) -> str:
        self._run(
            str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            dbname,
        )  # fmt: skip
        return self.url(dbname)

    def log_text(self, tail: int = 4_000) -> str:
        try:
            return self.log.read_text(errors="replace")[-tail:]
        except (FileNotFoundError, PermissionError):
            return ""
