"""The three CI identities on a tracking server with authentication (`mlflow server --app-name
basic-auth`): who may log runs, register versions and move `production`.

Run by an admin (MLFLOW_TRACKING_USERNAME/PASSWORD) with the new users' passwords in
MLFLOW_READER_PASSWORD, MLFLOW_REGISTRAR_PASSWORD and MLFLOW_PROMOTER_PASSWORD. Creates both
experiments and the registered model first, as the admin: MLflow makes a creator its manager, and
no CI identity may be that. Pull-request runs log to their own experiment, so the identity pull
requests hold (the reader) can read, but never write, the experiment behind registered versions.
Every grant is written each time: re-running converges (changed passwords and grants updated).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

import requests

from ..config import Settings, tracking_uri
from ..errors import RegistryError, UsageError
from ..schema import Schema


@dataclass(frozen=True)
class Role:
    name: str
    experiment: str  # permission on the main experiment (main's runs: the registered versions)
    pull_requests: str  # permission on the pull-request experiment
    model: str  # permission on the registered model
    may: str


ROLES = (
    Role("reader", "READ", "EDIT", "READ", "log pull-request runs, read production to compare"),
    Role("registrar", "EDIT", "READ", "EDIT", "train on main, register, set staging"),
    Role("promoter", "READ", "READ", "MANAGE", "move production (environment production)"),
)


def pull_request_experiment(settings: Settings) -> str:
    """Where pull-request runs log (their jobs set MLFLOW_EXPERIMENT_NAME to it)."""
    return f"{settings.tracking.experiment}-pull-requests"


def username(settings: Settings, role: Role) -> str:
    return f"{settings.registry.model_name}-{role.name}"


class _Server:
    def __init__(self, uri: str, admin: tuple[str, str]) -> None:
        self.uri, self.admin = uri.rstrip("/"), admin

    def call(self, method: str, path: str, body: dict, exists_ok: bool = False) -> dict | None:
        """The JSON answer; None when ``exists_ok`` and the resource already exists."""
        try:
            response = requests.request(
                method, f"{self.uri}{path}", json=body, auth=self.admin, timeout=30
            )
        except requests.RequestException as error:
            raise RegistryError(f"{method} {path}: {error}") from None
        if response.ok:
            return response.json() if response.content else {}
        try:
            answer = response.json()
        except ValueError:
            answer = {"message": response.text.strip()[:200]}
        if exists_ok and answer.get("error_code") == "RESOURCE_ALREADY_EXISTS":
            return None
        message = str(answer.get("message", "")).splitlines()[0] if answer.get("message") else ""
        raise RegistryError(f"{method} {path}: {response.status_code} {message}".strip())


def _experiment_id(server: _Server, name: str) -> str:
    server.call("POST", "/api/2.0/mlflow/experiments/create", {"name": name}, exists_ok=True)
    found = requests.get(
        f"{server.uri}/api/2.0/mlflow/experiments/get-by-name",
        params={"experiment_name": name},
        auth=server.admin,
        timeout=30,
    )
    if not found.ok:
        raise RegistryError(f"GET experiments/get-by-name {name}: {found.status_code}")
    return found.json()["experiment"]["experiment_id"]


def _grant(server: _Server, target: dict, permission: str) -> None:
    """Grant ``permission`` on ``target``, replacing an earlier grant (the API does not upsert)."""
    path = "/api/3.0/mlflow/users/permissions"
    if server.call("POST", f"{path}/grant", target | {"permission": permission}, True) is None:
        server.call("POST", f"{path}/revoke", target)
        server.call("POST", f"{path}/grant", target | {"permission": permission})


def main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    return run(settings, dry_run=args.print)


def run(settings: Settings, dry_run: bool = False) -> str:
    """Create (or update) the three users and their grants; return a summary line."""
    model, experiment = settings.registry.model_name, settings.tracking.experiment
    pull_requests = pull_request_experiment(settings)
    plan = [
        f"{username(settings, r)}: {r.experiment} on experiment {experiment}, "
        f"{r.pull_requests} on experiment {pull_requests}, "
        f"{r.model} on model {model} ({r.may})"
        for r in ROLES
    ]
    if dry_run:
        return "\n".join(plan)
    uri = tracking_uri(settings)
    if not uri.startswith(("http://", "https://")):
        raise UsageError(f"roles need a tracking server: MLFLOW_TRACKING_URI is {uri}")
    admin = (os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD"))
    if not all(admin):
        raise UsageError("set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (an admin)")
    passwords = {r.name: os.environ.get(f"MLFLOW_{r.name.upper()}_PASSWORD") for r in ROLES}
    if missing := [f"MLFLOW_{name.upper()}_PASSWORD" for name, pw in passwords.items() if not pw]:
        raise UsageError(f"set {', '.join(missing)} (the new users' passwords)")
    server = _Server(uri, admin)
    experiment_ids = _experiment_id(server, experiment), _experiment_id(server, pull_requests)
    server.call("POST", "/api/2.0/mlflow/registered-models/create", {"name": model}, True)
    for role in ROLES:
        user = {"username": username(settings, role), "password": passwords[role.name]}
        if server.call("POST", "/api/2.0/mlflow/users/create", user, exists_ok=True) is None:
            server.call("PATCH", "/api/2.0/mlflow/users/update-password", user)
        for resource_type, resource_id, permission in (
            ("experiment", experiment_ids[0], role.experiment),
            ("experiment", experiment_ids[1], role.pull_requests),
            ("registered_model", model, role.model),
        ):
            target = {"username": user["username"], "resource_type": resource_type}
            target |= {"resource_id": resource_id}
            _grant(server, target, permission)
    return "created or updated on " + uri + ":\n" + "\n".join(plan)
