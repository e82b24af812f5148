DB_HOST=localhost
GREETING=hello world
