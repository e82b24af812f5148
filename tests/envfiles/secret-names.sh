export OPENAI_API_KEY=sk-x
export SLACK_WEBHOOK_URL=https://hooks.example.invalid/x
export DB_PASSWORD=pw
export GOOGLE_APPLICATION_CREDENTIALS=/k.json
export npm_token=t
