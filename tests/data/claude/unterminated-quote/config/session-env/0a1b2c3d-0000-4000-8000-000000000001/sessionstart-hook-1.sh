export GREETING=hello
export MOTD='Welcome to the project
export AFTER=1
