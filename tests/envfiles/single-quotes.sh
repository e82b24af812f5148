export A='it has $HOME and "quotes"'
