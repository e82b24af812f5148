export Path='C:\tools;C:\Windows\system32;C:\Windows'
