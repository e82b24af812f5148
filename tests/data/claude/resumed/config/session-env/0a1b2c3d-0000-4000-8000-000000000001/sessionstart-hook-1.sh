export GREETING=hello
export GREETING=hello
export GREETING=hello
