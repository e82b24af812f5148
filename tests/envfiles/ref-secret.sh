export AUTH="token $GITHUB_TOKEN"
