"""HTTP API: /health and /predict, serving the model behind the production alias."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from .config import DEFAULT_CONFIG, Settings, load_settings
from .errors import DataError
from .schema import NUMERIC, Schema
from .stages.predict import load_for_prediction, predict_frame


class PredictRequest(BaseModel):
    """Rows to score, each a mapping of column name to value."""

    rows: list[dict[str, float | int | str | bool | None]] = Field(min_length=1, max_length=10_000)


class PredictResponse(BaseModel):
    model_version: int
    predictions: list[Any]
    probabilities: list[dict[str, float]] | None = None
    # Id columns of the request, row by row, when the model's schema declares any.
    ids: list[dict[str, Any]] | None = None
    # Values the model has not seen in training (unknown categories, out-of-range numbers).
    warnings: list[str] = Field(default_factory=list)


def create_app(
    config: Path | str = DEFAULT_CONFIG,
    alias: str | None = None,
    loaded: tuple | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """The app; the model is loaded once at start-up (start-up fails if there is none), or is
    ``loaded`` already (what ``stages.predict.load_for_prediction`` returns). ``settings``:
    those of ``config``, when the caller has read them already."""
    settings = settings or load_settings(config)
    alias = alias or settings.registry.production_alias

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.model, app.state.contract, version = loaded or load_for_prediction(
            settings, alias
        )
        app.state.version = int(version.version)
        yield

    app = FastAPI(title=settings.registry.model_name, lifespan=lifespan)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "model": settings.registry.model_name,
            "alias": alias,
            "version": app.state.version,
        }

    @app.post("/predict")
    def predict(request: PredictRequest) -> PredictResponse:
        refuse_booleans_as_numbers(app.state.contract, request.rows)
        frame = pd.DataFrame(request.rows)
        try:
            result = predict_frame(app.state.model, app.state.contract, frame)
        except DataError as error:
            raise HTTPException(status_code=422, detail=str(error)) from None
        out = result.frame
        probabilities = out[[name for name in out.columns if name.startswith("proba_")]]
        ids = out[[name for name in app.state.contract["ids"] if name in out.columns]]
        return PredictResponse(
            model_version=app.state.version,
            predictions=out["prediction"].tolist(),
            probabilities=probabilities.to_dict("records") if len(probabilities.columns) else None,
            ids=ids.to_dict("records") if len(ids.columns) else None,
            warnings=result.warnings,
        )

    return app


def refuse_booleans_as_numbers(contract: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """HTTP 422 naming the column when JSON true/false stands where the model needs a number
    (Python counts True as 1, so nothing later would notice)."""
    for name, entry in contract["features"].items():
        if entry["dtype"] not in NUMERIC:
            continue
        if count := sum(isinstance(row.get(name), bool) for row in rows):
            detail = f"column {name!r}: true/false is not a number ({entry['dtype']})"
            raise HTTPException(status_code=422, detail=f"{detail} in {count} row(s)")


def main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    alias = args.alias or settings.registry.production_alias
    serve(settings, args.config, alias, args.host, args.port)
    return "server stopped"


def serve(settings: Settings, config: Path, alias: str, host: str, port: int) -> None:
    """Load the model behind ``alias`` first -- none is a RegistryError (exit 5, one line) before
    any server starts -- then serve it until stopped (Ctrl-C)."""
    import uvicorn

    loaded = load_for_prediction(settings, alias)
    print(
        f"serving {settings.registry.model_name} version {loaded[2].version} (@{alias}) at "
        f"http://{host}:{port}: GET /health, POST /predict, docs at /docs",
        flush=True,
    )
    app = create_app(config, alias, loaded, settings)
    uvicorn.run(app, host=host, port=port, log_level="warning")
