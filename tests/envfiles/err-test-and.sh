[ -d /opt/bin ] && export PATH="/opt/bin:$PATH"
