export VIRTUAL_ENV=/srv/app/.venv
_OLD_VIRTUAL_PATH="$PATH"
PROMPT_COMMAND='_hook'
