"""Prune the optional parts the answers did not choose, then print the next steps."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

LICENSES_DIR = Path("licenses")


def _remove(*paths: str) -> None:
    for path in map(Path, paths):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def remove_flake8_files() -> None:
    _remove(".flake8")


def remove_serving_files(module_name: str) -> None:
    _remove(f"src/{module_name}/serving.py", "tests/test_serving.py")


def remove_flow_files(module_name: str) -> None:
    _remove(f"src/{module_name}/flow.py", "tests/test_flow.py")


def remove_docker_files() -> None:
    _remove("Dockerfile", ".dockerignore", "docker-compose.yml", "docker", "tests/test_docker.py")


def remove_dvc_files(module_name: str) -> None:
    _remove(".dvc", ".dvcignore", f"src/{module_name}/stages/dvc.py", "tests/test_dvc.py")


def promote_license(license_name: str) -> None:
    """Keep the chosen license text as LICENSE; 'Not open source' keeps none."""
    chosen = LICENSES_DIR / license_name
    if chosen.exists():
        shutil.move(chosen, "LICENSE")
    shutil.rmtree(LICENSES_DIR)


def next_steps(project_slug: str) -> str:
    return "\n".join(
        [
            f"Created {project_slug}. Next steps:",
            f"  cd {project_slug}",
            "  make install    # virtual environment with the project and its dev tools",
            "  make pipeline   # validate -> train -> gate -> register, on the bundled sample",
            "  make help       # every other target",
        ]
    )


def main(answers: dict[str, str]) -> int:
    if answers["linting"] != "flake8+black+isort":
        remove_flake8_files()
    if answers["serving"] != "fastapi":
        remove_serving_files(answers["module_name"])
    if answers["docker"] != "y":
        remove_docker_files()
    if answers["orchestration"] != "prefect":
        remove_flow_files(answers["module_name"])
    if answers["data_versioning"] != "dvc":
        remove_dvc_files(answers["module_name"])
    promote_license(answers["open_source_license"])
    print(next_steps(answers["project_slug"]))
    return 0


if __name__ == "__main__":
    # Rendered by cookiecutter: tojson escapes quotes, so the raw string always holds valid JSON.
    sys.exit(main(json.loads(r'{{ cookiecutter | tojson }}')))  # fmt: skip
