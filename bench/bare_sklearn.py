"""The baseline: read the same CSV, fit the same scikit-learn pipeline, score it. Nothing else."""

import sys

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

frame = pd.read_csv(sys.argv[1])
features, labels = frame.drop(columns="target"), frame["target"]
x_train, x_test, y_train, y_test = train_test_split(
    features, labels, test_size=0.25, random_state=42, stratify=labels
)
numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
model = Pipeline(
    [
        ("preprocess", ColumnTransformer([("numeric", numeric, list(features.columns))])),
        ("model", LogisticRegression(C=1.0, max_iter=500, random_state=42)),
    ]
).fit(x_train, y_train)
print(accuracy_score(y_test, model.predict(x_test)))
