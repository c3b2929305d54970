"""ansible-runner's stdout callback behind a wait: the plugin folder of a run's head start.

Not imported by Chiffon: its folder is put first on ``ANSIBLE_CALLBACK_PLUGINS`` of a held
ansible-playbook (``executor/headstart.py``), where ``awx_display.py`` stands in for
ansible-runner's callback of that name.
"""
