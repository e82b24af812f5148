export 1BAD=x
