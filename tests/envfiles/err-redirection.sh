echo x > /tmp/f
