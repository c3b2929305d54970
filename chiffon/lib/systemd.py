"""The systemd unit ``chiffon systemd-unit`` prints."""

from __future__ import annotations

from chiffon.settings import Settings

_UNIT = """\
# /etc/systemd/system/chiffon.service
# Install: sudo useradd --system --home-dir /var/lib/chiffon --shell /usr/sbin/nologin {user}
#          chiffon systemd-unit | sudo tee /etc/systemd/system/chiffon.service
#          sudo systemctl daemon-reload && sudo systemctl enable --now chiffon
# The service user's SSH key (in /var/lib/chiffon/.ssh) is what Ansible uses to reach hosts.
[Unit]
Description=Chiffon: run the homelab's Ansible playbooks by asking in plain words
After=network-online.target postgresql.service
Wants=network-online.target

[Service]
Type=exec
User={user}
Group={user}
ExecStartPre={python} -m chiffon db upgrade
ExecStart={python} -m chiffon serve
Restart=on-failure
RestartSec=5
# cancel and stop kill the whole ansible process tree themselves; give them time
KillMode=mixed
TimeoutStopSec=30
Environment=CHIFFON_DATA_DIR=/var/lib/chiffon
Environment=CHIFFON_PLAYBOOKS_DIR={playbooks}
Environment=CHIFFON_PORT={port}
# Environment=CHIFFON_DATABASE_URL_FILE=/etc/chiffon/database-url
StateDirectory=chiffon
StateDirectoryMode=0750
WorkingDirectory=/var/lib/chiffon
UMask=0027

# Hardening: Chiffon only needs its state dir, the playbook repo and the network.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=/var/lib/chiffon {playbooks}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
CapabilityBoundingSet=
AmbientCapabilities=
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6

[Install]
WantedBy=multi-user.target
"""


def unit_text(user: str, python: str, settings: Settings) -> str:
    """The unit for ``user``; a relative playbook dir becomes /var/lib/chiffon/playbooks."""
    playbooks = settings.playbooks_dir
    where = str(playbooks) if playbooks.is_absolute() else "/var/lib/chiffon/playbooks"
    return _UNIT.format(user=user, python=python, playbooks=where, port=settings.port)
