case ":$PATH:" in
  *":/opt/bin:"*) ;;
  *) export PATH="$PATH:/opt/bin" ;;
esac
