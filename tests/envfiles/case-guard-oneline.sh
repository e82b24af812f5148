case ":${PATH}:" in *:/opt/bin:*) ;; *) export PATH="/opt/bin:$PATH";; esac
