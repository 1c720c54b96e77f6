"""The service's commands, one entry point:

python -m safeguarding run                      start everything on the embedded defaults (make run)
python -m safeguarding mint --role R --user U   a local sign-in token (embedded default only)
                       [--agency A] [--partner P] [--hours H]
python -m safeguarding audit verify             does the audit chain hold? (exit 1 and the entry if not)
python -m safeguarding directory seed           add the partner directory's missing default entries
                       [--demo-mailboxes]
python -m safeguarding mail [--port] [--dir]    the local mail server that keeps every message
"""

from __future__ import annotations

import sys
from collections.abc import Callable


def _commands() -> dict[str, Callable[[list[str]], int]]:
    # Imported on use: each command loads only what it needs.
    def run(argv: list[str]) -> int:
        from safeguarding.dev.embedded import main

        return main()

    def mint(argv: list[str]) -> int:
        from safeguarding.platform.identity import main

        return main(["mint", *argv])

    def audit(argv: list[str]) -> int:
        from safeguarding.store.audit import main

        return main(argv)

    def directory(argv: list[str]) -> int:
        from safeguarding.store.directory import main

        return main(argv)

    def mail(argv: list[str]) -> int:
        from safeguarding.dev.local_mail import main

        return main(argv)

    def steps(argv: list[str]) -> int:
        from safeguarding.domain.steps import markdown_table

        print(markdown_table())
        return 0

    return {"run": run, "mint": mint, "audit": audit, "directory": directory, "mail": mail, "steps": steps}


def main(argv: list[str]) -> int:
    commands = _commands()
    if not argv or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
