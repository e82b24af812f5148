function greet {
  echo hi
}
