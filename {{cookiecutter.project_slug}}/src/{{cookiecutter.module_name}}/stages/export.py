"""`export` and `card`: a model's files in a folder; the Markdown card of a registered version."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from .. import model_files, registry, reports, tracking
from ..config import Settings
from ..schema import Schema


def main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    path = export_model(settings, args.output, args.alias, args.version)
    return f"exported the model to {path}"


def export_model(
    settings: Settings, output: Path, alias: str | None = None, number: int | None = None
) -> Path:
    """Copy the trained candidate (or registry version ``number``, or the one behind
    ``alias``) into ``output``; a registered version only once its files are verified."""
    if alias is None and number is None:
        uri = reports.read_json(settings, "train")["model_uri"]
        tracking.connect(settings)
        return tracking.download_model(uri, output)
    model_version = registry.resolve(settings, alias, number)
    registry.verified_files(settings, model_version, output)
    return output


def card_main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    reports.write_text(args.output, model_card(settings, args.alias, args.version))
    return f"wrote {args.output}"


def model_card(settings: Settings, alias: str | None = None, number: int | None = None) -> str:
    """Markdown model card of registry version ``number`` (or the one behind ``alias``):
    metrics, params, data and lineage."""
    name = settings.registry.model_name
    model_version = registry.resolve(settings, alias, number)
    params, metrics, _ = tracking.run_details(settings, str(model_version.run_id))
    with tempfile.TemporaryDirectory() as scratch:
        files = registry.verified_files(settings, model_version, Path(scratch) / "model")
    tags = model_version.tags
    aliases = ", ".join(f"`{a}`" for a in sorted(model_version.aliases)) or "none yet"
    lines = [
        f"# Model card: {name} version {model_version.version}",
        "",
        f"- Registered model: `{name}`, version **{model_version.version}** (aliases: {aliases})",
        f"- Run id: `{model_version.run_id}`",
        f"- Commit: `{tags.get('git_sha', 'unknown')}`",
        f"- Training data sha256: `{tags.get('data_sha256', 'unknown')}`",
        f"- Training data version (DVC md5): `{tags.get('data_dvc_md5', 'not tracked by DVC')}`",
        f"- Config sha256: `{tags.get('config_sha256', 'unknown')}`",
    ]
    if "pr_number" in tags:
        head = f" (head `{tags['pr_head_sha']}`)" if "pr_head_sha" in tags else ""
        lines.append(f"- Pull request: #{tags['pr_number']}{head}")
    lines += [
        "",
        "## Model files",
        "",
        f"Digest (`{model_files.DIGEST_TAG}`, checked before every load): "
        f"`{tags[model_files.DIGEST_TAG]}`",
        "",
        "| file | sha256 |",
        "|---|---|",
    ]
    lines += [f"| `{path}` | `{sha}` |" for path, sha in sorted(files.items())]
    lines += ["", "## Metrics (test split)", "", "| metric | value |", "|---|---|"]
    lines += [f"| {key} | {value:.4f} |" for key, value in sorted(metrics.items())]
    lines += ["", "## Parameters", "", "| parameter | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in sorted(params.items())]
    return "\n".join(lines) + "\n"
