"""The set-up a person follows for the trust model to hold: the generated SECURITY.md, CODEOWNERS
and the README's numbered GitHub set-up, checked against what the rendered workflows use."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.helpers import Combo, bake
from tests.test_render import JINJA_LEFTOVER

OWNER = "acme-ml"
EMAIL = "security@acme.example"

# The two data-versioning answers change which environments and secrets exist; the other options
# take the values the default combination does not.
COMBOS = [
    Combo(),
    Combo(
        task="regression",
        data_versioning="git",
        linting="ruff",
        serving="fastapi",
        docker="y",
        orchestration="prefect",
        python_version="3.14",
        open_source_license="Not open source",
    ),
]

TRUSTED_PATHS = {"/.github/", "/config/", "/mlflow-server/"}


@pytest.fixture(scope="module", params=COMBOS, ids=lambda combo: combo.id)
def baked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    combo: Combo = request.param
    context = {**combo.context(), "github_owner": OWNER, "author_email": EMAIL}
    return combo, bake(tmp_path_factory.mktemp("security"), context)


def _setup_section(project: Path) -> str:
    readme = (project / "README.md").read_text()
    assert readme.count("\n## GitHub set-up\n") == 1
    section = readme.split("\n## GitHub set-up\n", 1)[1]
    return section.split("\n## ", 1)[0]


def _steps(section: str) -> dict[int, str]:
    """Step number -> its text (up to the next step)."""
    parts = re.split(r"^(\d+)\. ", section, flags=re.MULTILINE)
    return {int(number): text for number, text in zip(parts[1::2], parts[2::2], strict=True)}


def _jobs(project: Path):
    """(workflow file, job id, job, secrets the workflow's top-level env reads) per job."""
    for path in sorted((project / ".github" / "workflows").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text())
        top_env = json.dumps(workflow.get("env", {}))
        for job_id, job in workflow["jobs"].items():
            yield path.name, job_id, job, set(re.findall(r"secrets\.(\w+)", top_env))


def _environment(job: dict) -> str | None:
    environment = job.get("environment")
    return environment["name"] if isinstance(environment, dict) else environment


def _workflow_environments(project: Path) -> set[str]:
    return {env for _, _, job, _ in _jobs(project) if (env := _environment(job)) is not None}


def _secret_scopes(project: Path) -> dict[str, set[str | None]]:
    """Secret -> the environments of the jobs that read it (None: a job without one)."""
    scopes: dict[str, set[str | None]] = {}
    for _, _, job, top_secrets in _jobs(project):
        for name in set(re.findall(r"secrets\.(\w+)", json.dumps(job))) | top_secrets:
            scopes.setdefault(name, set()).add(_environment(job))
    return scopes


def _secrets_set(section: str) -> dict[str, str | None]:
    """Secret -> the environment its `gh secret set` line puts it in (None: repository)."""
    found: dict[str, str | None] = {}
    for line in re.findall(r"^ *gh secret set \w+.*$", section, flags=re.MULTILINE):
        name = line.split()[3]
        env = re.search(r"--env ([\w-]+)", line)
        assert name not in found, f"{name} is set twice"
        found[name] = env.group(1) if env else None
    return found


def test_security_md_names_the_project_and_how_to_report(baked) -> None:
    combo, project = baked
    text = (project / "SECURITY.md").read_text()
    assert text.startswith("# Security policy\n")
    assert "(README.md#github-set-up)" in text
    assert "[SECURITY.md](SECURITY.md)" in _setup_section(project)
    assert f"https://github.com/{OWNER}/{combo.slug}/security/advisories/new" in text
    assert EMAIL in text
    for identity in ("none", "reader", "registrar", "promoter"):
        assert re.search(rf"^\| {identity} \|", text, flags=re.MULTILINE), identity
    for promise in ("model_sha256", "skops", "merge commit", "403", "`production`"):
        assert promise in text, promise
    for assumption in (
        "mlflow-server/start.sh",
        "make roles",
        "require_code_owner_review",
        "GitHub Pro, Team or Enterprise",
        "required reviewers need GitHub Enterprise",
        "Allow GitHub Actions to create and approve pull",
    ):
        assert assumption in text, assumption
    # The environments it relies on are the ones the workflows use (a rename breaks this).
    for environment in _workflow_environments(project):
        assert f"`{environment}`" in text, environment
    assert ("`data-refresh`" in text) == (combo.data_versioning == "dvc")
    assert ("the\n   API" in text) == (combo.serving == "fastapi")


def test_codeowners_owns_the_trusted_paths_that_exist(baked) -> None:
    _, project = baked
    lines = (project / ".github" / "CODEOWNERS").read_text().splitlines()
    rules = [line.split() for line in lines if line.strip() and not line.startswith("#")]
    # Every path owned first (no bot is a code owner), the trusted paths named again.
    assert rules[0] == ["*", f"@{OWNER}"]
    assert {rule[0] for rule in rules[1:]} == TRUSTED_PATHS
    for path, *owners in rules[1:]:
        assert owners == [f"@{OWNER}"], path
        assert (project / path.strip("/")).is_dir(), f"CODEOWNERS names {path}, not rendered"
    ruleset = json.loads((project / ".github" / "rulesets" / "main.json").read_text())
    (review,) = [rule for rule in ruleset["rules"] if rule["type"] == "pull_request"]
    assert review["parameters"]["require_code_owner_review"] is True
    assert "team" in "\n".join(line for line in lines if line.startswith("#"))


def test_readme_setup_is_numbered_and_linked(baked) -> None:
    _, project = baked
    readme = (project / "README.md").read_text()
    quick_start = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    assert "[GitHub set-up](#github-set-up)" in quick_start
    steps = _steps(_setup_section(project))
    assert list(steps) == list(range(1, len(steps) + 1))
    assert len(steps) == 8
    for number, text in steps.items():
        assert text.startswith("**"), f"step {number} has no title"
        assert "```bash\n" in text, f"step {number} has no command"


def test_readme_setup_gives_the_exact_calls(baked) -> None:
    combo, project = baked
    repo = f"{OWNER}/{combo.slug}"
    section = _setup_section(project)
    rulesets = sorted(p.name for p in (project / ".github" / "rulesets").glob("*.json"))
    assert rulesets == ["main.json", "release-tags.json"]
    calls = [
        f"gh repo create {repo} --public --source . --push",
        *(f"gh api -X POST repos/{repo}/rulesets --input .github/rulesets/{n}" for n in rulesets),
        f"gh api -X PUT repos/{repo}/actions/permissions/workflow"
        " -f default_workflow_permissions=read -F can_approve_pull_request_reviews=true",
        f"gh api -X PUT repos/{repo}/actions/permissions/fork-pr-contributor-approval"
        " -f approval_policy=all_external_contributors",
        f"gh api -X PUT repos/{repo}/actions/permissions/fork-pr-workflows-private-repos"
        " -F run_workflows_from_fork_pull_requests=true -F send_write_tokens_to_workflows=false"
        " -F send_secrets_and_variables=false -F require_approval_for_fork_pr_workflows=true",
        f"gh api -X PUT repos/{repo}/private-vulnerability-reporting",
        f"reviewer=$(gh api users/{OWNER} --jq .id)",
        "make roles",
    ]
    main_only, release_tags = "-f name=main -f type=branch", "-f name='v*.*.*' -f type=tag"
    policies = {"staging": main_only, "production": release_tags}
    if combo.data_versioning == "dvc":
        policies["data-refresh"] = main_only
    for env, policy in policies.items():
        calls.append(f"gh api -X PUT repos/{repo}/environments/{env} --input - <<")
        calls.append(
            f"gh api -X POST repos/{repo}/environments/{env}/deployment-branch-policies {policy}"
        )
    for call in calls:
        assert call in section, call
    assert "your-github-user" not in section


def test_readme_environment_bodies_are_valid_json_with_the_rules(baked) -> None:
    _, project = baked
    section = _setup_section(project)
    bodies = re.findall(
        r"/environments/([\w-]+) --input - <<'?JSON'?\n(.*?)\n\s*JSON\n", section, flags=re.DOTALL
    )
    assert bodies
    for env, body in bodies:
        data = json.loads(body.replace("$reviewer", "1"))
        # Only the custom policies created next may deploy (protected branches would let any in).
        assert data["deployment_branch_policy"] == {
            "protected_branches": False,
            "custom_branch_policies": True,
        }, env
        if env == "production":
            assert data["reviewers"] == [{"type": "User", "id": 1}]
        else:
            assert "reviewers" not in data, env


def test_readme_environments_are_the_ones_the_workflows_use(baked) -> None:
    combo, project = baked
    section = _setup_section(project)
    created = set(re.findall(rf"repos/{OWNER}/{combo.slug}/environments/([\w-]+) ", section))
    tabled = set(re.findall(r"^\s*\| `([\w-]+)` \|", section, flags=re.MULTILINE))
    assert created == tabled
    used = _workflow_environments(project)
    assert used, "no workflow job names an environment"
    assert created == used


def test_readme_puts_each_secret_where_its_jobs_read_it(baked) -> None:
    _, project = baked
    section = _setup_section(project)
    scopes = _secret_scopes(project)
    documented = _secrets_set(section)
    for name, env in documented.items():
        assert name in scopes, f"{name} is set but no workflow reads it"
        if env is None:  # a repository secret: some job outside any environment needs it
            assert None in scopes[name], f"{name}: only jobs of {scopes[name]} read it"
        else:
            assert scopes[name] == {env}, f"{name}: read by jobs of {scopes[name]}, set in {env}"
    for name in scopes:
        if name.endswith("_TOKEN"):  # the alternative to a password: mentioned, same place
            assert f"`{name}`" in section, name
            assert scopes[name] == scopes[name.removesuffix("_TOKEN") + "_PASSWORD"], name
        else:
            assert name in documented, f"the workflows read {name}: the set-up never sets it"


def test_no_template_syntax_left_in_the_new_files(baked) -> None:
    _, project = baked
    for text in (
        (project / "SECURITY.md").read_text(),
        (project / ".github" / "CODEOWNERS").read_text(),
        _setup_section(project),
    ):
        leftover = JINJA_LEFTOVER.search(text)
        assert leftover is None, leftover.group()
        assert "cookiecutter" not in text.lower()
