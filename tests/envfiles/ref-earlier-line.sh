export ROOT=/opt/app
export BIN=$ROOT/bin
