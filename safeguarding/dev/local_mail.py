"""The embedded default's mail server: a local SMTP server that keeps every message it receives in a
Maildir folder (``data/mail``; each message a plain file under ``new/``, readable as text or with any
mail client, e.g. ``mutt -f data/mail``). It delivers nothing onwards: it shows what the agencies would
receive. Production uses the partnership's own relay (``SLL_SMTP_HOST``).

    python -m safeguarding mail [--port 8025] [--dir data/mail]
"""

from __future__ import annotations

import argparse
import mailbox
import signal
import threading
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from safeguarding.platform.settings import get_settings


class MaildirHandler:
    def __init__(self, folder: Path) -> None:
        for part in ("tmp", "new", "cur"):  # Maildir's own layout; it makes it only for a new folder
            (folder / part).mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(folder, create=False)
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default_policy)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self.lock:
            self.maildir.add(message)
        print(f"[local mail] to {', '.join(envelope.rcpt_tos)}: {message['Subject']}", flush=True)
        return "250 Message accepted for delivery"


def serve(port: int, folder: Path, host: str = "127.0.0.1") -> Controller:
    controller = Controller(MaildirHandler(folder), hostname=host, port=port)
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m safeguarding mail")
    parser.add_argument("--port", type=int, default=settings.local_smtp_port)
    parser.add_argument("--dir", type=Path, default=settings.local_mail_dir)
    args = parser.parse_args(argv)
    controller = serve(args.port, args.dir)
    print(f"[local mail] SMTP on 127.0.0.1:{args.port}; messages kept in {args.dir}/new", flush=True)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()
    return 0
