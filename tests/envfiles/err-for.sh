for d in /a /b; do
  export PATH=$d:$PATH
done
