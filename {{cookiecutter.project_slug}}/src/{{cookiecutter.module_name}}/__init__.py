"""Train, gate and ship a {{ cookiecutter.task }} model with MLflow and GitHub Actions."""

__version__ = "0.1.0"
