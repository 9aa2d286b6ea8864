"""Basic-auth for the team's MLflow server, plus the rules MLflow's per-model permissions cannot
express: what decides which model is production stays with the model's managers.

MLflow grants per registered model, and EDIT (the registrar's grant, needed to register versions
and set ``staging``) may also set any alias, move stages, rename the model and rewrite version
tags. Here a user who is neither an admin nor holds an explicit MANAGE grant on the model (the
promoter) is refused (403):

- setting or deleting an alias listed in MLFLOW_PROTECTED_ALIASES (default ``production``),
  compared ignoring case (``Production`` too);
- any stage transition (the deprecated stages are a second way to say "production");
- renaming or deleting the registered model (every ``@production`` lookup names it);
- deleting a model version that holds an alias;
- changing a tag listed in MLFLOW_PROTECTED_TAGS (default ``git_sha,gate,model_sha256``: what
  promotion and the gate trust) on an existing version: setting it again once it is there, or
  deleting it. Tags passed with create-model-version are the registration itself and pass;
- creating a registered model (admins only): MLflow makes a model's creator its manager;
- query parameters on a registry write: MLflow's handlers read a write's parameters from its body,
  while its permission check reads a DELETE's from the query string when the body is not declared
  JSON, so the two could name different models.

And, for every user who is not an admin, whatever the model:

- creating an experiment with an ``artifact_location`` of its own choosing: the server writes such
  an experiment's files with its own storage access, so a location inside another experiment's
  folder (a registered version's model files) would let the user add files there;
- ``upload-artifact`` (the UI's server-side upload, which writes with the server's own access; the
  clients log artifacts through the artifact proxy, which checks the experiment).

Parameters are read as MLflow's handlers read them: the query string of a GET, else the JSON body
whatever its Content-Type. Used as ``authorization_function = alias_guard:authenticate`` in the
auth config (start.sh); MLflow calls it again (by validators and after-request handlers) within a
request, so the first decision is kept for the rest of the request.
"""

from __future__ import annotations

import json
import os

from flask import Response, g, request
from mlflow.exceptions import MlflowException
from mlflow.server import auth

# The server process's own registry store: MLflow exposes no public accessor to it (the auth app
# itself imports this name), and a client would need the backend URI, which the server passes to
# its workers only through a private environment variable.
from mlflow.server.handlers import _get_model_registry_store

REGISTRY_WRITES = ("/mlflow/registered-models/", "/mlflow/model-versions/")
READS = ("GET", "HEAD", "OPTIONS")
ALIAS = "/mlflow/registered-models/alias"
CREATE = "/mlflow/registered-models/create"
RENAME = "/mlflow/registered-models/rename"
DELETE_MODEL = "/mlflow/registered-models/delete"
TRANSITION = "/mlflow/model-versions/transition-stage"
DELETE_VERSION = "/mlflow/model-versions/delete"
SET_TAG = "/mlflow/model-versions/set-tag"
DELETE_TAG = "/mlflow/model-versions/delete-tag"
CREATE_EXPERIMENT = "/mlflow/experiments/create"
UPLOAD_ARTIFACT = "/mlflow/upload-artifact"


def _names(variable: str, default: str) -> set[str]:
    names = os.environ.get(variable, default)
    return {name.strip().casefold() for name in names.split(",") if name.strip()}


def _body() -> dict:
    """The JSON body as MLflow's handlers read it: whatever the Content-Type, and decoded again
    when a (legacy) client sent it as a JSON string."""
    body = request.get_json(force=True, silent=True)
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            body = None
    return body if isinstance(body, dict) else {}


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


def _version(model: str, version: str):
    """The model version, or None when it cannot be read (the guard then refuses)."""
    try:
        return _get_model_registry_store().get_model_version(model, version)
    except MlflowException:
        return None


def _refusal(path: str, params: dict) -> str | None:
    """Why a user who is neither an admin nor a manager of the model may not make this write;
    None when it may."""
    model, version = str(params.get("name", "")), str(params.get("version", ""))
    what = f"of '{model}' (needs MANAGE on the model: the promoter)"
    if path.endswith(CREATE):
        # An existing model: MLflow answers "already exists", as register_model expects.
        if _exists(model):
            return None
        return "may not create registered models (admins only)"
    if path.endswith(ALIAS):
        alias = str(params.get("alias", ""))
        if alias.casefold() in _names("MLFLOW_PROTECTED_ALIASES", "production"):
            return f"may not move alias '{alias}' {what}"
    elif path.endswith(TRANSITION):
        return f"may not transition stages {what}"
    elif path.endswith((RENAME, DELETE_MODEL)):
        return f"may not rename or delete the registered model '{model}' (needs MANAGE)"
    elif path.endswith(DELETE_VERSION):
        held = _version(model, version)
        if held is None or held.aliases:
            return f"may not delete version {version} {what}: it holds an alias"
    elif path.endswith((SET_TAG, DELETE_TAG)):
        key = str(params.get("key", ""))
        if key.casefold() in _names("MLFLOW_PROTECTED_TAGS", "git_sha,gate,model_sha256"):
            held = _version(model, version)
            tags = {name.casefold() for name in held.tags} if held else set()
            if held is None or path.endswith(DELETE_TAG) or key.casefold() in tags:
                return f"may not change tag '{key}' of version {version} {what}"
    return None


def _decide():
    authorization = auth.authenticate_request_basic_auth()
    if isinstance(authorization, Response):
        return authorization
    path, username = request.path, authorization.username
    server_side = path.endswith((CREATE_EXPERIMENT, UPLOAD_ARTIFACT))
    registry = any(route in path for route in REGISTRY_WRITES)
    if request.method in READS or not (server_side or registry):
        return authorization
    if auth.store.get_user(username).is_admin:
        return authorization
    if path.endswith(UPLOAD_ARTIFACT):
        return _forbidden(f"user '{username}' may not upload artifacts through the server (admins)")
    if path.endswith(CREATE_EXPERIMENT):
        if "artifact_location" in request.args or _body().get("artifact_location"):
            return _forbidden(
                f"user '{username}' may not choose where an experiment's artifacts live (admins)"
            )
        return authorization
    if request.args:
        return _forbidden(f"user '{username}': send registry parameters in the JSON body only")
    params = _body()
    # Creating a model is for admins only, whatever grants name it.
    manager = not path.endswith(CREATE) and _manages(username, str(params.get("name", "")))
    if not manager and (reason := _refusal(path, params)):
        return _forbidden(f"user '{username}' {reason}")
    return authorization


def authenticate():
    """MLflow's basic-auth check, then the registry rules above (decided once per request)."""
    if "alias_guard" not in g:
        g.alias_guard = _decide()
    return g.alias_guard
