export CARGO_HOME=$HOME/.cargo
