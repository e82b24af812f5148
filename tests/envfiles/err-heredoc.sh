cat <<EOF
A=1
EOF
