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

from .. import access
from ..config import Settings, tracking_uri
from ..errors import UsageError
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
    admin = os.environ.get("MLFLOW_TRACKING_USERNAME")
    admin_password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if not (admin and admin_password):
        raise UsageError("set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (an admin)")
    passwords = {r.name: os.environ.get(f"MLFLOW_{r.name.upper()}_PASSWORD") for r in ROLES}
    if missing := [f"MLFLOW_{name.upper()}_PASSWORD" for name, pw in passwords.items() if not pw]:
        raise UsageError(f"set {', '.join(missing)} (the new users' passwords)")
    experiment_ids = (
        access.experiment_id(settings, experiment),
        access.experiment_id(settings, pull_requests),
    )
    access.create_model(settings, model)
    for role in ROLES:
        user = username(settings, role)
        access.set_user(settings, user, str(passwords[role.name]))
        for resource_type, resource_id, permission in (
            ("experiment", experiment_ids[0], role.experiment),
            ("experiment", experiment_ids[1], role.pull_requests),
            ("registered_model", model, role.model),
        ):
            access.grant(settings, user, resource_type, resource_id, permission)
    return "created or updated on " + uri + ":\n" + "\n".join(plan)
