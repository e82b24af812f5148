export PATH=/a:${PATH}
