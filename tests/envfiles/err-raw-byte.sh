export B=$'\x80'
