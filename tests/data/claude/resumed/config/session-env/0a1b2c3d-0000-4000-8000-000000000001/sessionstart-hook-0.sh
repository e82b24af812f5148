export PATH="/opt/tool/bin:$PATH"
export PATH="/opt/tool/bin:$PATH"
export PATH="/opt/tool/bin:$PATH"
