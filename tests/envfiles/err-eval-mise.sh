eval "$(mise activate bash)"
