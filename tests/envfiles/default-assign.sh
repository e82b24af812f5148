export PAGER="${PAGER:=less}"
