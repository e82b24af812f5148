(export A=1)
