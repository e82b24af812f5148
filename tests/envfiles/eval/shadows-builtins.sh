# Functions named like the commands a driver might use must not break the reading.
printf() { :; }
compgen() { :; }
export SHADOWED=1
