# set by my hook

   # indented
export A=1 # trailing comment
