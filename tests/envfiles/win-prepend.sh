export PATH="C:\tools\bin;$PATH"
