export DIRENV_DIR=-/srv/app
export __MISE_DIFF=abc
export SHLVL=9
export REAL=1
export API_TOKEN="$(printf s3cr3t-value)"
