"""Build the scikit-learn Pipeline (preprocessing + estimator) that the config describes."""

from __future__ import annotations

import importlib
import inspect

from .config import ConfigError, ModelSettings, Schema


def resolve_estimator(dotted: str) -> type:
    """Import ``sklearn.<module>.<Class>``; a bad path is a ConfigError naming model.estimator."""
    module_name, _, class_name = dotted.rpartition(".")
    try:
        estimator = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise ConfigError(f"model.estimator: {dotted!r} is not a scikit-learn estimator") from None
    if not (inspect.isclass(estimator) and hasattr(estimator, "fit")):
        raise ConfigError(f"model.estimator: {dotted!r} is not a scikit-learn estimator")
    return estimator


def build_pipeline(settings: ModelSettings, schema: Schema, target: str, seed: int):
    """Impute (+ scale) numeric columns, one-hot encode the others, then the estimator."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features = {name: rule for name, rule in schema.columns.items() if name != target}
    numeric = [name for name, rule in features.items() if rule.dtype in ("int", "float")]
    categorical = [name for name in features if name not in numeric]
    numeric_steps = [("impute", SimpleImputer(strategy=settings.preprocessing.numeric_imputer))]
    if settings.preprocessing.scale_numeric:
        # In place: it scales the imputer's fresh output, never the caller's data.
        numeric_steps.append(("scale", StandardScaler(copy=False)))
    transformers = [("numeric", Pipeline(numeric_steps), numeric)]
    if categorical:
        encode = OneHotEncoder(handle_unknown="ignore")
        categorical_steps = [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", encode),
        ]
        transformers.append(("categorical", Pipeline(categorical_steps), categorical))

    estimator_class = resolve_estimator(settings.estimator)
    params = dict(settings.params)
    if "random_state" in estimator_class().get_params():
        params.setdefault("random_state", seed)
    try:
        estimator = estimator_class(**params)
    except TypeError as error:
        raise ConfigError(f"model.params: {error}") from None
    return Pipeline([("preprocess", ColumnTransformer(transformers)), ("model", estimator)])
