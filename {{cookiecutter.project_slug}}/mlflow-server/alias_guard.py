"""Basic-auth for the team's MLflow server, plus the one rule MLflow's permissions cannot express.

MLflow grants per registered model: EDIT may set *any* alias. Here an alias listed in
MLFLOW_PROTECTED_ALIASES (default ``production``) may be set or removed only by an admin or by a
user with an explicit MANAGE grant on that model (the promoter), so the registrar, who needs
EDIT to register and set ``staging``, is refused ``production``. Registered models are created by
admins only: MLflow makes a model's creator its manager, which would bypass the rule.

Used as ``authorization_function = alias_guard:authenticate`` in the auth config (start.sh).
"""

from __future__ import annotations

import json
import os

from flask import Response, request
from mlflow.exceptions import MlflowException
from mlflow.server import auth
from mlflow.server.handlers import _get_model_registry_store

ALIAS_ROUTE = "/mlflow/registered-models/alias"
CREATE_ROUTE = "/mlflow/registered-models/create"


def _protected() -> set[str]:
    names = os.environ.get("MLFLOW_PROTECTED_ALIASES", "production")
    return {name.strip() for name in names.split(",") if name.strip()}


def _params() -> dict:
    body = request.get_json(silent=True) if request.is_json else None
    return {**request.args, **(body if isinstance(body, dict) else {})}


def _forbidden(message: str) -> Response:
    body = json.dumps({"error_code": "PERMISSION_DENIED", "message": message})
    return Response(body, status=403, mimetype="application/json")


def _manages(username: str, model: str) -> bool:
    try:
        grant = auth.store.get_registered_model_permission(model, username)
    except MlflowException:
        return False
    return grant.permission == "MANAGE"


def _exists(model: str) -> bool:
    try:
        _get_model_registry_store().get_registered_model(model)
    except MlflowException:
        return False
    return True


def authenticate():
    """MLflow's basic-auth check, then the alias and model-creation rules."""
    authorization = auth.authenticate_request_basic_auth()
    if isinstance(authorization, Response):
        return authorization
    path, username = request.path, authorization.username
    if not path.endswith((ALIAS_ROUTE, CREATE_ROUTE)) or request.method == "GET":
        return authorization
    if auth.store.get_user(username).is_admin:
        return authorization
    params = _params()
    model = str(params.get("name", ""))
    if path.endswith(CREATE_ROUTE):
        # An existing model: MLflow answers "already exists", as register_model expects.
        if _exists(model):
            return authorization
        return _forbidden(f"user '{username}' may not create registered models (admins only)")
    alias = str(params.get("alias", ""))
    if alias in _protected() and not _manages(username, model):
        return _forbidden(
            f"user '{username}' may not move alias '{alias}' of '{model}' "
            "(needs MANAGE on the model: the promoter)"
        )
    return authorization
