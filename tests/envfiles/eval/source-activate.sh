source "$(dirname "${BASH_SOURCE[0]}")/activate.sh"
