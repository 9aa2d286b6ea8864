#!/bin/sh
# Start the team's MLflow server with authentication: write the auth config from the
# environment (no secret in the image), then run `mlflow server --app-name basic-auth "$@"`.
set -eu
: "${MLFLOW_AUTH_DATABASE_URI:?set MLFLOW_AUTH_DATABASE_URI (where users and permissions live)}"
: "${MLFLOW_AUTH_CONFIG_PATH:=/tmp/mlflow-basic-auth.ini}"
export MLFLOW_AUTH_CONFIG_PATH
# Password checks are PBKDF2 hashes, one per request: caching a verified password for 30 s makes
# a training run ~5x faster; a changed or deleted password stays valid on the other workers for
# at most that long (MLFLOW_AUTH_CACHE_TTL_SECONDS=0 turns the cache off).
here="$(cd "$(dirname "$0")" && pwd)"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
cat > "$MLFLOW_AUTH_CONFIG_PATH" <<INI
[mlflow]
default_permission = ${MLFLOW_AUTH_DEFAULT_PERMISSION:-READ}
database_uri = $MLFLOW_AUTH_DATABASE_URI
authorization_function = alias_guard:authenticate
auth_cache_ttl_seconds = ${MLFLOW_AUTH_CACHE_TTL_SECONDS:-30}
INI
exec mlflow server --app-name basic-auth "$@"
