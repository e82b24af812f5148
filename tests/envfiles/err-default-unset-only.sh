export E=${E-vim}
