export PATH
export HOME=$HOME
