# A virtualenv-style activate script (written for these tests).
deactivate() { export PATH="$_OLD_VIRTUAL_PATH"; unset VIRTUAL_ENV; }
VIRTUAL_ENV="/srv/app/.venv"
export VIRTUAL_ENV
_OLD_VIRTUAL_PATH="$PATH"
PATH="$VIRTUAL_ENV/bin:$PATH"
export PATH
