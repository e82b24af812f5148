export $line
