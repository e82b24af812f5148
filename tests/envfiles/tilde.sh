export TOOLS=~/tools
