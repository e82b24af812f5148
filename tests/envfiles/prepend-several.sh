export PATH="/a:/b:$PATH"
