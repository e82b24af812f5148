export A=$'line1\nline2\ttab \'q\' \x41\u00e9\101'
