export CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/tool
