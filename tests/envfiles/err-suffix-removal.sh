export D=${PWD%/*}
