source /srv/app/.venv/bin/activate
