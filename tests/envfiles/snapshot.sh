export PATH=/opt/x/bin:/usr/bin:/bin
