export PATH=/a:/usr/bin:/bin:/z
