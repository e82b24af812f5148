export A="a \"q\" \$HOME \\ \` \n"
