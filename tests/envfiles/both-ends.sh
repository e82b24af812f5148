export PATH="/a:$PATH:/b"
