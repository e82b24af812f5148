eval "$(printf 'export GREETING=%s\nexport PATH="/opt/greeter/bin:$PATH"\n' hello)"
