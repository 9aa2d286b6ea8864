"""Train, gate and ship a {{ cookiecutter.task }} model with MLflow and GitHub Actions."""

import os

from .deferred import defer

__version__ = "0.1.0"

# MLflow configures its loggers when it is imported: at WARNING its INFO lines (store creation,
# experiment creation) stay out of every stage's output. MLFLOW_LOGGING_LEVEL=INFO brings them back.
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
# MLflow's AI gateway client (FastAPI) loads on first use, not with every `import mlflow`.
defer("mlflow.gateway")
