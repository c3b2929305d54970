"""The ``chiffon`` command's entry point: ``chiffon agent`` starts without the server's imports.

The agent runs on every machine of the homelab and must stay light, so it is dispatched before
``chiffon.cli`` (which imports the database layer and the catalog) is loaded.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["agent"] and not {"-h", "--help"} & set(args[1:]):
        from chiffon.router.agent import main as agent_main

        return agent_main(args[1:])
    from chiffon.cli import main as cli_main

    return cli_main(args)
