export X=$NOPE/bin
