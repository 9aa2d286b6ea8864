"""Users and permissions on a tracking server with authentication, through MLflow's own clients
(`MlflowClient` for experiments and models, the basic-auth app's `AuthServiceClient` for users
and grants). Only `make roles` uses it, as an admin (MLFLOW_TRACKING_USERNAME/PASSWORD).
"""

from __future__ import annotations

from mlflow.exceptions import MlflowException
from mlflow.server import get_app_client

from .config import Settings, tracking_uri
from .tracking import connect, failing_closed


def _exists(error: MlflowException) -> bool:
    return error.error_code == "RESOURCE_ALREADY_EXISTS"


def experiment_id(settings: Settings, name: str) -> str:
    """The id of experiment ``name``, created (by the admin, who then manages it) if new."""
    with failing_closed(f"roles: experiment {name}"):
        client = connect(settings)
        found = client.get_experiment_by_name(name)
        return found.experiment_id if found else client.create_experiment(name)


def create_model(settings: Settings, name: str) -> None:
    """Register the model name (as the admin) unless it exists."""
    with failing_closed(f"roles: registered model {name}"):
        try:
            connect(settings).create_registered_model(name)
        except MlflowException as error:
            if not _exists(error):
                raise


def set_user(settings: Settings, username: str, password: str) -> None:
    """Create user ``username``, or give an existing one ``password``."""
    with failing_closed(f"roles: user {username}"):
        connect(settings)  # bounded retries and timeouts for the auth client's requests too
        auth = get_app_client("basic-auth", tracking_uri=tracking_uri(settings))
        try:
            auth.create_user(username, password)
        except MlflowException as error:
            if not _exists(error):
                raise
            auth.update_user_password(username, password)


def grant(
    settings: Settings, username: str, resource_type: str, resource_id: str, permission: str
) -> None:
    """Grant ``permission`` on a resource, replacing an earlier grant (grants do not upsert)."""
    with failing_closed(f"roles: {permission} on {resource_type} {resource_id} for {username}"):
        connect(settings)
        auth = get_app_client("basic-auth", tracking_uri=tracking_uri(settings))
        try:
            auth.grant_user_permission(username, resource_type, resource_id, permission)
        except MlflowException as error:
            if not _exists(error):
                raise
            auth.revoke_user_permission(username, resource_type, resource_id)
            auth.grant_user_permission(username, resource_type, resource_id, permission)
