"""ansible-runner's ``awx_display`` callback, loaded only once Chiffon says the run may go.

ansible-playbook loads its stdout callback after reading the inventory and the playbook and
before the first play: the right moment to hold a run started ahead of time. This file stands
in for ansible-runner's own callback (the folder comes first on the plugin path): it connects
to the Unix socket named by ``CHIFFON_HOLD`` and waits for one byte. ``g`` lets it load
ansible-runner's callback (``CHIFFON_RUNNER_CALLBACK``) and the playbook run as usual;
anything else (Chiffon closed the socket, or went away) ends ansible-playbook at once, before
anything ran. Loaded by ansible-playbook, so it imports nothing but the standard library; a
problem here fails the load of the stdout callback, which ansible-playbook treats as fatal:
a hold that does not work never lets a run through.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys

DOCUMENTATION = """
    callback: awx_display
    short_description: ansible-runner's event dispatcher, started once Chiffon allows it
    description:
        - Waits on CHIFFON_HOLD, then is ansible-runner's awx_display callback.
    type: stdout
    extends_documentation_fragment:
      - default_callback
"""

GO = b"g"
NOT_RELEASED = 75  # EX_TEMPFAIL: ansible-playbook was started ahead and not let through


def _wait_for_chiffon() -> None:
    # Taken from the environment: the workers and modules ansible-playbook starts never see it,
    # and a second import of this file (were there one) does not wait again.
    path = os.environ.pop("CHIFFON_HOLD", "")
    if not path:
        return
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(path)
            answer = connection.recv(1)
    except OSError:
        answer = b""
    if answer != GO:
        sys.stderr.write("chiffon: this run was not let through; nothing ran\n")
        sys.stderr.flush()
        os._exit(NOT_RELEASED)


def _runner_callback() -> type:
    path = os.environ.get("CHIFFON_RUNNER_CALLBACK", "")
    spec = importlib.util.spec_from_file_location("chiffon_runner_awx_display", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"CHIFFON_RUNNER_CALLBACK names no ansible-runner callback: {path!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # ansible looks a callback's file up by its module
    spec.loader.exec_module(module)
    callback: type = module.CallbackModule
    return callback


_wait_for_chiffon()
CallbackModule = _runner_callback()
