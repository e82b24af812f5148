PATH=/opt/bin:$PATH
