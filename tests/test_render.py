"""Render every supported option combination and check exactly what comes out."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.helpers import (
    TEMPLATE_DIR,
    Combo,
    bake,
    can_lock,
    files_under,
    run,
    tool,
    tools_env,
)

PYTHONS = ["3.11", "3.12", "3.13", "3.14"]
LICENSES = ["MIT", "BSD-3-Clause", "Apache-2.0", "Not open source"]
VERSIONING = ["dvc", "git"]

# Full factorial of the options that change files (task x linting x serving x docker); python
# version, license and data versioning rotate through the combinations so every value is rendered
# at least once (data versioning with both tasks, linters, serving and docker values).
ORCHESTRATION = ("none", "prefect")
COMBOS = [
    Combo(
        task=task,
        data_versioning=VERSIONING[(i // 3) % len(VERSIONING)],
        linting=linting,
        serving=serving,
        docker=docker,
        orchestration=ORCHESTRATION[(i // 2 + i) % len(ORCHESTRATION)],
        python_version=PYTHONS[i % len(PYTHONS)],
        open_source_license=LICENSES[(i // 4 + i) % len(LICENSES)],
    )
    for i, (task, linting, serving, docker) in enumerate(
        (t, lint, s, d)
        for t in ("classification", "regression")
        for lint in ("flake8+black+isort", "ruff")
        for s in ("none", "fastapi")
        for d in ("n", "y")
    )
]

BASE_FILES = {
    ".cruft.json",
    ".github/CODEOWNERS",
    ".github/dependabot.yml",
    ".github/pull_request_template.md",
    ".github/rulesets/main.json",
    ".github/rulesets/release-tags.json",
    ".github/scripts/github_api.py",
    ".github/scripts/registry_configured.sh",
    ".github/workflows/ci.yml",
    ".github/workflows/model.yml",
    ".github/workflows/monitor.yml",
    ".github/workflows/release.yml",
    ".github/workflows/template.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
    "Makefile",
    "README.md",
    "SECURITY.md",
    "config/pipeline.yaml",
    "config/schema.yaml",
    "data/external/.gitkeep",
    "data/interim/.gitkeep",
    "data/monitoring/.gitkeep",
    "data/processed/.gitkeep",
    "data/raw/.gitkeep",
    "mlflow-server/Dockerfile",
    "mlflow-server/alias_guard.py",
    "mlflow-server/requirements.txt",
    "mlflow-server/start.sh",
    "models/.gitkeep",
    "notebooks/README.md",
    "pyproject.toml",
    "reports/figures/.gitkeep",
    "src/{module}/__init__.py",
    "src/{module}/__main__.py",
    "src/{module}/access.py",
    "src/{module}/batch.py",
    "src/{module}/cancel.py",
    "src/{module}/cli.py",
    "src/{module}/cluster.py",
    "src/{module}/config.py",
    "src/{module}/console.py",
    "src/{module}/data.py",
    "src/{module}/drift_report.py",
    "src/{module}/errors.py",
    "src/{module}/figures.py",
    "src/{module}/files.py",
    "src/{module}/lineage.py",
    "src/{module}/metric_names.py",
    "src/{module}/model_files.py",
    "src/{module}/provenance.py",
    "src/{module}/registry.py",
    "src/{module}/reports.py",
    "src/{module}/schema.py",
    "src/{module}/timings.py",
    "src/{module}/tracking.py",
    "src/{module}/core/__init__.py",
    "src/{module}/core/contract.py",
    "src/{module}/core/drift.py",
    "src/{module}/core/features.py",
    "src/{module}/core/gate.py",
    "src/{module}/core/metrics.py",
    "src/{module}/core/model.py",
    "src/{module}/core/parsing.py",
    "src/{module}/core/search.py",
    "src/{module}/core/split.py",
    "src/{module}/core/validation.py",
    "src/{module}/core/violations.py",
    "src/{module}/stages/__init__.py",
    "src/{module}/stages/evaluate.py",
    "src/{module}/stages/export.py",
    "src/{module}/stages/gate.py",
    "src/{module}/stages/monitor.py",
    "src/{module}/stages/pipeline.py",
    "src/{module}/stages/predict.py",
    "src/{module}/stages/refresh.py",
    "src/{module}/stages/register.py",
    "src/{module}/stages/roles.py",
    "src/{module}/stages/sample.py",
    "src/{module}/stages/schema.py",
    "src/{module}/stages/train.py",
    "src/{module}/stages/tune.py",
    "src/{module}/stages/validate.py",
    "tests/conftest.py",
    "tests/test_cluster.py",
    "tests/test_config.py",
    "tests/test_data.py",
    "tests/test_figures.py",
    "tests/test_gate.py",
    "tests/test_integrity.py",
    "tests/test_layout.py",
    "tests/test_model.py",
    "tests/test_monitoring.py",
    "tests/test_pipeline.py",
    "tests/test_progress.py",
    "tests/test_provenance.py",
    "tests/test_real_data.py",
    "tests/test_registry.py",
    "tests/test_roles.py",
    "tests/test_search.py",
    "tests/test_public_apis.py",
    "tests/test_defects.py",
    "tests/tables.py",
    "tests/test_validation.py",
}
FLAKE8_FILES = {".flake8"}
DVC_FILES = {
    ".dvc/.gitignore",
    ".dvc/config",
    ".dvcignore",
    "src/{module}/stages/dvc.py",
    "tests/test_dvc.py",
}
SERVING_FILES = {"src/{module}/serving.py", "tests/test_serving.py"}
FLOW_FILES = {"src/{module}/flow.py", "tests/test_flow.py"}
DOCKER_FILES = {
    ".dockerignore",
    "Dockerfile",
    "docker-compose.yml",
    "tests/test_docker.py",
}


def expected_files(combo: Combo) -> set[str]:
    files = set(BASE_FILES)
    if combo.linting == "flake8+black+isort":
        files |= FLAKE8_FILES
    if combo.serving == "fastapi":
        files |= SERVING_FILES
    if combo.docker == "y":
        files |= DOCKER_FILES
    if combo.orchestration == "prefect":
        files |= FLOW_FILES
    if combo.data_versioning == "dvc":
        files |= DVC_FILES
    if combo.open_source_license != "Not open source":
        files.add("LICENSE")
    if can_lock(combo.python_version):  # else the next steps say `make lock` (tests/test_lock.py)
        files.add("uv.lock")
    return {name.format(module=combo.module) for name in files}


@pytest.fixture(scope="module", params=COMBOS, ids=lambda combo: combo.id)
def baked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    combo: Combo = request.param
    return combo, bake(tmp_path_factory.mktemp("render"), combo.context())


def test_every_option_value_is_rendered() -> None:
    assert {c.python_version for c in COMBOS} == set(PYTHONS)
    assert {c.open_source_license for c in COMBOS} == set(LICENSES)
    for option in ("task", "linting", "serving", "docker", "orchestration"):
        pairs = {(getattr(c, option), c.data_versioning) for c in COMBOS}
        assert len(pairs) == 2 * len(VERSIONING), option
    assert len({(c.task, c.linting, c.serving, c.docker) for c in COMBOS}) == 16


def test_exact_file_set(baked) -> None:
    combo, project = baked
    assert files_under(project) == expected_files(combo)


JINJA_LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#|cookiecutter\.")


def test_no_jinja_left_behind(baked) -> None:
    _, project = baked
    for relative in files_under(project):
        text = (project / relative).read_text(encoding="utf-8")
        leftover = JINJA_LEFTOVER.search(text)
        assert leftover is None, f"{relative}: {leftover.group()!r}"


def _template_expressions(relative: str) -> set[str]:
    source = (TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / relative).read_text()
    return set(re.findall(r"\$\{\{.*?\}\}", source))


# Expressions that only the DVC variant renders (the DVC remote's credentials).
DVC_EXPRESSIONS = {
    "${{ secrets.DVC_READ_ACCESS_KEY_ID }}",
    "${{ secrets.DVC_READ_SECRET_ACCESS_KEY }}",
    "${{ secrets.DVC_WRITE_ACCESS_KEY_ID }}",
    "${{ secrets.DVC_WRITE_SECRET_ACCESS_KEY }}",
}


def test_github_expressions_survive_verbatim(baked) -> None:
    combo, project = baked
    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    assert workflows
    for workflow in workflows:
        expected = _template_expressions(workflow.relative_to(project).as_posix())
        if combo.data_versioning != "dvc":
            assert not DVC_EXPRESSIONS & set(re.findall(r"\$\{\{.*?\}\}", workflow.read_text()))
            expected -= DVC_EXPRESSIONS
        assert expected, f"{workflow.name} has no ${{{{ }}}} expressions to check"
        text = workflow.read_text()
        for expression in expected:
            assert expression in text, f"{workflow.name} lost {expression}"


def test_toml_and_yaml_parse(baked) -> None:
    _, project = baked
    for path in project.rglob("*.toml"):
        tomllib.loads(path.read_text())
    for path in [*project.rglob("*.yml"), *project.rglob("*.yaml")]:
        assert yaml.safe_load(path.read_text()) is not None, path


def test_pyproject_names_the_project(baked) -> None:
    combo, project = baked
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert meta["name"] == combo.slug
    assert meta["requires-python"] == f">={combo.python_version}"
    assert meta["urls"]["Homepage"] == f"https://github.com/your-github-user/{combo.slug}"
    if combo.open_source_license == "Not open source":
        assert "license" not in meta
    else:
        assert meta["license"] == combo.open_source_license


def test_readme_names_the_project_not_the_template(baked) -> None:
    combo, project = baked
    readme = (project / "README.md").read_text()
    assert readme.startswith(f"# {combo.slug}\n")
    assert f"your-github-user/{combo.slug}/actions" in readme
    assert "cookiecutter" not in readme.lower()
    for section in [
        "## How the pipeline runs on GitHub",
        "### Secrets, variables and environments",
        "### Who may write the registry",
        "### Branch and tag rules",
        "### Exit codes",
    ]:
        assert section in readme, section


def _pins(project: Path) -> dict[str, str]:
    dev = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["dev"]
    return dict(req.split("==") for req in dev if "==" in req)


# Scripts of the pinned pre-commit-hooks package the hooks run besides the linters.
HYGIENE_SCRIPTS = {
    "trailing-whitespace-fixer",
    "end-of-file-fixer",
    "check-yaml",
    "check-toml",
    "check-added-large-files",
}


def test_pre_commit_runs_the_pinned_linters_of_the_venv_offline(baked) -> None:
    combo, project = baked
    pins = _pins(project)
    (repo,) = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())["repos"]
    assert repo["repo"] == "local"  # nothing fetched: the dev extras' own tools
    scripts = set()
    for hook in repo["hooks"]:
        assert hook["language"] == "unsupported", hook["id"]
        script = hook["entry"].split()[0]
        assert script.startswith(".venv/bin/"), hook["id"]
        scripts.add(script.removeprefix(".venv/bin/"))
    linters = {"ruff"} if combo.linting == "ruff" else {"black", "isort", "flake8"}
    linters |= {"mypy"}  # both variants type-check src/
    assert scripts == linters | HYGIENE_SCRIPTS
    # uv: the one make install puts into the venv when none is on PATH.
    assert set(pins) == linters | {"cruft", "pre-commit", "pre-commit-hooks", "uv"}


def test_ci_matrix_covers_minimum_and_newest_python(baked) -> None:
    combo, project = baked
    ci = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    matrix = ci["jobs"]["test"]["strategy"]["matrix"]["python-version"]
    assert matrix[0] == combo.python_version
    assert matrix[-1] == "3.14"


def test_actions_are_pinned_by_sha_with_version_comment(baked) -> None:
    _, project = baked
    for workflow in (project / ".github" / "workflows").glob("*.yml"):
        for line in workflow.read_text().splitlines():
            if "uses:" in line:
                assert re.search(r"uses: [\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_workflows_pass_actionlint_with_shellcheck(baked) -> None:
    _, project = baked
    workflows = sorted(str(p) for p in (project / ".github" / "workflows").glob("*.yml"))
    result = run(
        [tool("actionlint"), "-shellcheck", tool("shellcheck"), *workflows],
        cwd=project,
        env=tools_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr


DEPENDABOT = ".github/dependabot.yml"


def test_dependabot_config_matches_its_schema(baked) -> None:
    _, project = baked
    result = run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", DEPENDABOT],
        cwd=project,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_pass_zizmor_offline(baked) -> None:
    _, project = baked
    result = run(
        [tool("zizmor"), "--offline", "--no-progress", ".github"], cwd=project, env=tools_env()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout + result.stderr


# Secrets that can change something a registered version, production or the training data is
# made of, and the one environment each may live in (deployment branch or tag rules).
WRITE_SECRETS = {
    "MLFLOW_REGISTRAR_USERNAME": "staging",
    "MLFLOW_REGISTRAR_PASSWORD": "staging",
    "MLFLOW_REGISTRAR_TOKEN": "staging",
    "MLFLOW_PROMOTER_USERNAME": "production",
    "MLFLOW_PROMOTER_PASSWORD": "production",
    "MLFLOW_PROMOTER_TOKEN": "production",
    "DVC_WRITE_ACCESS_KEY_ID": "data-refresh",
    "DVC_WRITE_SECRET_ACCESS_KEY": "data-refresh",
}
# Repository secrets: the server's address, the reader (EDIT on the pull-request experiment
# only) and the DVC remote's read-only key.
READ_SECRETS = {
    "MLFLOW_TRACKING_URI",
    "MLFLOW_READER_USERNAME",
    "MLFLOW_READER_PASSWORD",
    "MLFLOW_READER_TOKEN",
}
DVC_READ_SECRETS = {"DVC_READ_ACCESS_KEY_ID", "DVC_READ_SECRET_ACCESS_KEY"}


def test_auditor_zizmor_finds_no_write_secret_outside_an_environment(baked) -> None:
    combo, project = baked
    result = run(
        [tool("zizmor"), "--offline", "--no-progress", "--persona=auditor", "--format=json"]
        + [".github"],
        cwd=project,
        env=tools_env(),
    )
    findings = json.loads(result.stdout)
    outside = set()
    for finding in findings:
        assert finding["ident"] == "secrets-outside-env", finding["ident"]
        for location in finding["locations"]:
            if location["symbolic"]["kind"] == "Primary":
                outside.add(location["concrete"]["feature"].removeprefix("secrets."))
    read_only = READ_SECRETS | (DVC_READ_SECRETS if combo.data_versioning == "dvc" else set())
    assert outside == read_only
    assert not outside & set(WRITE_SECRETS)


def _jobs(project: Path) -> dict[tuple[str, str], dict]:
    """(workflow, job id) -> job, for every generated workflow."""
    jobs = {}
    for path in (project / ".github" / "workflows").glob("*.yml"):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            jobs[(path.name, name)] = job
    return jobs


def test_each_write_secret_reaches_only_jobs_of_its_environment(baked) -> None:
    combo, project = baked
    used = set()
    for (workflow, name), job in _jobs(project).items():
        text = yaml.safe_dump(job)
        for secret, environment in WRITE_SECRETS.items():
            if f"secrets.{secret} " in text:
                used.add(secret)
                assert job.get("environment") == environment, (workflow, name, secret)
    expected = set(WRITE_SECRETS)
    if combo.data_versioning != "dvc":
        expected -= {"DVC_WRITE_ACCESS_KEY_ID", "DVC_WRITE_SECRET_ACCESS_KEY"}
    assert used == expected


def test_pull_requests_log_to_their_own_experiment_and_main_trains_in_staging(baked) -> None:
    combo, project = baked
    jobs = _jobs(project)
    train, register = jobs[("model.yml", "train")], jobs[("model.yml", "register")]
    # Pull requests and manual runs: the reader, in the pull-request experiment.
    assert train["if"] == "github.event_name != 'push'"
    assert "environment" not in train
    assert train["env"]["MLFLOW_EXPERIMENT_NAME"] == f"{combo.slug}-pull-requests"
    assert train["env"]["MLFLOW_TRACKING_USERNAME"] == "${{ secrets.MLFLOW_READER_USERNAME }}"
    monitor = jobs[("monitor.yml", "check")]
    assert monitor["env"]["MLFLOW_EXPERIMENT_NAME"] == f"{combo.slug}-pull-requests"
    # main: trained, gated and registered by the registrar, in environment staging, after the
    # merged pull request's check and in that order.
    assert register["environment"] == "staging"
    assert "MLFLOW_EXPERIMENT_NAME" not in register["env"]
    assert register["env"]["MLFLOW_TRACKING_USERNAME"] == "${{ secrets.MLFLOW_REGISTRAR_USERNAME }}"
    runs = [step.get("run", "") for step in register["steps"]]
    order = ["gated-pr", "make train", "make gate", "make register"]
    positions = [next(i for i, r in enumerate(runs) if word in r) for word in order]
    assert positions == sorted(positions)
    # No job of any workflow both holds a registry identity and runs for pull requests.
    for (workflow, name), job in jobs.items():
        if "secrets.MLFLOW_REGISTRAR" in yaml.safe_dump(job):
            assert (workflow, name) == ("model.yml", "register")


def test_template_repository_workflow_passes_actionlint_and_zizmor() -> None:
    workflows = str(TEMPLATE_DIR / ".github" / "workflows")
    lint = run(
        [tool("actionlint"), "-shellcheck", tool("shellcheck"), f"{workflows}/ci.yml"],
        cwd=TEMPLATE_DIR,
        env=tools_env(),
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    audit = run(
        [tool("zizmor"), "--offline", "--no-progress", workflows], cwd=TEMPLATE_DIR, env=tools_env()
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr


MAKE_TARGETS = {
    "help",
    "install",
    "lock",
    "update",
    "update-check",
    "example-input",
    "lint",
    "format",
    "test",
    "clean",
    "data",
    "schema",
    "validate",
    "train",
    "gate",
    "register",
    "pipeline",
    "promote",
    "version",
    "rollback",
    "roles",
    "tune",
    "monitor",
    "evaluate",
    "refresh-data",
    "predict",
    "mlflow-ui",
    "export-model",
    "release-assets",
}


def test_makefile_documents_exactly_the_expected_targets(baked) -> None:
    combo, project = baked
    text = (project / "Makefile").read_text()
    documented = set(re.findall(r"^([a-z-]+):.*## ", text, flags=re.MULTILINE))
    expected = MAKE_TARGETS | ({"serve"} if combo.serving == "fastapi" else set())
    if combo.data_versioning == "dvc":
        expected |= {"data-pull", "data-push", "monitor-data"}
    if combo.orchestration == "prefect":
        expected |= {"flow", "flow-serve"}
    assert documented == expected
    dry_run = run(
        ["make", "--no-print-directory", "-n", "predict", "INPUT=a.csv", "OUTPUT=b.csv"],
        cwd=project,
    )
    assert dry_run.returncode == 0, dry_run.stderr
    guard, command = dry_run.stdout.splitlines()  # the argument check, then one command
    assert guard.startswith('test -n "a.csv"'), dry_run.stdout
    assert command.endswith('predict --input "a.csv" --output "b.csv"'), dry_run.stdout


def test_rulesets_require_the_checks_the_workflows_report(baked) -> None:
    combo, project = baked
    ci = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    versions = ci["jobs"]["test"]["strategy"]["matrix"]["python-version"]
    reported = {ci["jobs"]["lint"]["name"]} | {f"Test (Python {v})" for v in versions}

    main = json.loads((project / ".github" / "rulesets" / "main.json").read_text())
    tags = json.loads((project / ".github" / "rulesets" / "release-tags.json").read_text())

    (checks,) = [r for r in main["rules"] if r["type"] == "required_status_checks"]
    assert {c["context"] for c in checks["parameters"]["required_status_checks"]} == reported
    # Only GitHub Actions (app id 15368) may report them: another app's check of the same name
    # does not count.
    assert {c.get("integration_id") for c in checks["parameters"]["required_status_checks"]} == {
        15368
    }
    assert {r["type"] for r in main["rules"]} >= {"pull_request", "non_fast_forward", "deletion"}
    assert tags["target"] == "tag"
    assert tags["conditions"]["ref_name"]["include"] == ["refs/tags/v*"]
