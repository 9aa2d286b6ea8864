"""Write a synthetic 20-feature, 3-class CSV; print its in-memory DataFrame size in bytes.

Usage: synthetic.py ROWS PATH [SEED] (another seed: another sample of the same distribution)."""

import sys

import numpy as np
import pandas as pd

rows, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
features = rng.normal(size=(rows, 20))
classes = (features[:, :3].sum(axis=1) > 0).astype(int) + (features[:, 3] > 1).astype(int)
frame = pd.DataFrame(features, columns=[f"x{i}" for i in range(20)])
frame["target"] = np.array(["a", "b", "c"])[classes]
frame.to_csv(path, index=False)
print(int(pd.read_csv(path).memory_usage(deep=True).sum()))
