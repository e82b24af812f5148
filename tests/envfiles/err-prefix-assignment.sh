A=1 some-command
