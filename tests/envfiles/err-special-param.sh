export A=$1
