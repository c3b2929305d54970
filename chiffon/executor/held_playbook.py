"""ansible-playbook, held: ansible's own code is loaded, then it waits for Chiffon's word.

A head start (``headstart.py``) puts a folder first on the run's PATH whose ``ansible-playbook``
runs this file. It imports ansible-playbook's code (most of its start-up: about 0.8 s of a
second), then connects to the Unix socket ``CHIFFON_HOLD`` names and waits for one byte,
before ansible loads or runs anything of the repo: plugins beside the playbook or named in
``ansible.cfg``, the inventory (a script is a program), the playbook (whose templates may run
lookups) or a vault password script. The imports read ``ansible.cfg``'s settings, open its
``log_path`` and make its ``local_tmp``; they would run its ``cowpath``, which the run's
environment turns off (``ANSIBLE_NOCOWS``). ``g`` runs ansible-playbook as if started
directly; anything else (Chiffon closed the socket, or went away) ends it with
``NOT_RELEASED``. Only ever started as that held command, so without ``CHIFFON_HOLD`` it
refuses too. The standard library and ansible only: it runs in
ansible-playbook's process, not Chiffon's.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

GO = b"g"
NOT_RELEASED = 75  # EX_TEMPFAIL: started ahead and not let through; nothing ran


def _wait_for_chiffon() -> bool:
    path = os.environ.pop("CHIFFON_HOLD", "")  # the tasks' processes never see it
    if not path:
        return False
    # The folder holding this command leaves PATH: a task that runs ansible-playbook gets the
    # real one.
    folder = str(Path(path).parent)
    os.environ["PATH"] = os.pathsep.join(
        entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry != folder
    )
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(path)
            return connection.recv(1) == GO
    except OSError:
        return False


def main() -> int:
    # As if started as ansible-playbook: its folder, not this one, first on the import path.
    sys.path[0] = str(Path(sys.executable).parent)
    from ansible.cli import playbook  # the slow part, and nothing of the repo

    if not _wait_for_chiffon():
        sys.stderr.write("chiffon: this run was not let through; nothing ran\n")
        return NOT_RELEASED
    sys.argv[0] = str(Path(sys.executable).with_name("ansible-playbook"))
    playbook.main()  # exits with ansible-playbook's own code
    return 0


if __name__ == "__main__":
    sys.exit(main())
