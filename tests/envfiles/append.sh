export PATH="$PATH:/opt/x/bin"
