export PATH+=":/opt/bin"
