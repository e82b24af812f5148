export PATH=/only/this
