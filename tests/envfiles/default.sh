export EDITOR=${EDITOR:-vim}
