#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

UNTRACKED_COMMANDS = {
    "",
    "runserver",
    "migrate",
    "makemigrations",
    "shell",
    "dbshell",
    "check",
    "collectstatic",
    "help",
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    from tracker.history import history_context

    # Changes made by a management command (loaddata, imports) are recorded
    # in the history as made by that command. Servers and schema commands are
    # left out: requests carry their own context, and DDL needs none.
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in UNTRACKED_COMMANDS:
        execute_from_command_line(sys.argv)
        return
    with history_context(command=command):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
