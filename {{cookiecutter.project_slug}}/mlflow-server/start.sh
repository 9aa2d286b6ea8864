#!/bin/sh
# Start the team's MLflow server with authentication: write the auth config from the
# environment (no secret in the image), then run `mlflow server --app-name basic-auth "$@"`.
set -eu
: "${MLFLOW_AUTH_DATABASE_URI:?set MLFLOW_AUTH_DATABASE_URI (where users and permissions live)}"
: "${MLFLOW_AUTH_CONFIG_PATH:=/tmp/mlflow-basic-auth.ini}"
export MLFLOW_AUTH_CONFIG_PATH
here="$(cd "$(dirname "$0")" && pwd)"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
cat > "$MLFLOW_AUTH_CONFIG_PATH" <<INI
[mlflow]
default_permission = ${MLFLOW_AUTH_DEFAULT_PERMISSION:-READ}
database_uri = $MLFLOW_AUTH_DATABASE_URI
authorization_function = alias_guard:authenticate
INI
exec mlflow server --app-name basic-auth "$@"
