export PATH="/opt/tool/bin:$PATH"
