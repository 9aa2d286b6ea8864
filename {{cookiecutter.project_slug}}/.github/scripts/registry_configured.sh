#!/usr/bin/env bash
# Is the MLflow registry configured for this job? Writes configured=true|false to GITHUB_OUTPUT.
#
#   bash .github/scripts/registry_configured.sh ROLE WHERE WHAT
#
# ROLE is the identity whose secrets the job maps to MLFLOW_TRACKING_USERNAME / _PASSWORD /
# _TOKEN (reader, registrar, promoter), WHERE the place its secrets live, WHAT the work that
# needs the registry. No MLFLOW_TRACKING_URI: a notice and configured=false, so a fresh
# repository stays green. Once the repository variable MLFLOW_REGISTRY is `required` (passed to
# this script in the environment), a missing or empty URI or identity is one error line and
# exit 1 instead: a project that has a registry never passes green without using it.
set -euo pipefail

role="$1" where="$2" what="$3"
upper="$(echo "$role" | tr '[:lower:]' '[:upper:]')"
identity="the $role's MLFLOW_${upper}_USERNAME + MLFLOW_${upper}_PASSWORD (or MLFLOW_${upper}_TOKEN) in $where"

if [ "${MLFLOW_REGISTRY:-}" = required ]; then
  missing=""
  if [ -z "${MLFLOW_TRACKING_URI:-}" ]; then
    missing="the MLFLOW_TRACKING_URI secret"
  fi
  if [ -z "${MLFLOW_TRACKING_TOKEN:-}" ] \
    && { [ -z "${MLFLOW_TRACKING_USERNAME:-}" ] || [ -z "${MLFLOW_TRACKING_PASSWORD:-}" ]; }; then
    missing="${missing:+$missing and }$identity"
  fi
  if [ -n "$missing" ]; then
    echo "::error title=Registry required::MLFLOW_REGISTRY is 'required' but $missing is missing or empty: cannot $what"
    exit 1
  fi
fi

if [ -n "${MLFLOW_TRACKING_URI:-}" ]; then
  echo "configured=true" >> "$GITHUB_OUTPUT"
else
  echo "::notice title=Registry not configured::Set the MLFLOW_TRACKING_URI secret and $identity to $what (then set the repository variable MLFLOW_REGISTRY to required)."
  echo "configured=false" >> "$GITHUB_OUTPUT"
fi
