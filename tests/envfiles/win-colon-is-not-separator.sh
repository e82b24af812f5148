export PATH="/c/tools:$PATH"
