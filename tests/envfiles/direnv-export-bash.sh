export DIRENV_DIFF=$'eJyrVkrNLShKLS5RsqpWSs7PS8tMVbJSyiwuUqrVUUpKTEnNUapVqgUAzWkL5Q==';export VIRTUAL_ENV=$'/srv/app/.venv';export PATH=$'/srv/app/.venv/bin:/usr/bin:/bin';
