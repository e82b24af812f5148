ARR=(a b)
