. ./more-env.sh
