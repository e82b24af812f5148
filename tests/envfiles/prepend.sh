export PATH="/opt/x/bin:$PATH"
