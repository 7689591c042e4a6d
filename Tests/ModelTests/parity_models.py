"""Trains XGBoost models of several shapes with fixed seeds and writes, per model, the JSON model, an input
CSV and xgboost's own predictions, for the Swift evaluator's parity tests.

Usage: parity_models.py OUTPUT_DIR
Writes OUTPUT_DIR/cases.json and OUTPUT_DIR/<case>/{model.json,input.csv,expected.csv,margins.csv}, plus a
model directory OUTPUT_DIR/bundle/{model.json,metadata.json} with bundle_input.csv and bundle_expected.csv.
"""
import json
import os
import sys

import numpy as np
import xgboost as xgb

OUT = sys.argv[1]
NAMES = ["ret_1", "ret_5", "ret_15", "rsi_14", "atr_pct", "spread_bps", "imbalance", "vol_z"]
rng = np.random.default_rng(20250126)
N_TRAIN, N_INPUT, N_FEATURES = 1500, 300, len(NAMES)


def data(n, seed):
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, N_FEATURES)) * np.array([1, 2, 3, 10, 0.5, 4, 1, 1])
    X[r.random(X.shape) < 0.12] = np.nan
    return X


X = data(N_TRAIN, 1)
score = np.nan_to_num(X[:, 0]) + 0.3 * np.nan_to_num(X[:, 3]) / 10 - 0.5 * np.nan_to_num(X[:, 6]) + rng.normal(size=N_TRAIN) * 0.7
y2 = (score > 0).astype(int)
y3 = np.digitize(score, [-0.6, 0.6])
y5 = np.digitize(score, [-1.2, -0.4, 0.4, 1.2])

CASES = [
    # name, labels, classes, params, rounds, with feature names
    ("binary_logistic", y2, 2, {"objective": "binary:logistic", "max_depth": 4}, 30, True),
    ("multi_softprob", y3, 3, {"objective": "multi:softprob", "num_class": 3, "max_depth": 5}, 40, True),
    ("multi_softmax", y3, 3, {"objective": "multi:softmax", "num_class": 3, "max_depth": 4}, 20, True),
    ("binary_logitraw", y2, 2, {"objective": "binary:logitraw", "max_depth": 4}, 20, True),
    ("dart_binary", y2, 2, {"objective": "binary:logistic", "booster": "dart", "rate_drop": 0.2, "skip_drop": 0.0, "max_depth": 4}, 30, True),
    ("dart_multi", y3, 3, {"objective": "multi:softprob", "num_class": 3, "booster": "dart", "rate_drop": 0.3, "max_depth": 3}, 20, True),
    ("deep_trees", y2, 2, {"objective": "binary:logistic", "max_depth": 8, "min_child_weight": 0, "eta": 0.1}, 50, True),
    ("trees_200", y3, 3, {"objective": "multi:softprob", "num_class": 3, "max_depth": 6, "eta": 0.05}, 200, True),
    ("no_feature_names", y2, 2, {"objective": "binary:logistic", "max_depth": 4}, 25, False),
    ("parallel_trees", y3, 3, {"objective": "multi:softprob", "num_class": 3, "num_parallel_tree": 4, "subsample": 0.8, "colsample_bynode": 0.8, "max_depth": 4}, 10, True),
    ("base_score_binary", y2, 2, {"objective": "binary:logistic", "base_score": 0.3, "max_depth": 3}, 15, True),
    ("base_score_multi", y3, 3, {"objective": "multi:softprob", "num_class": 3, "base_score": 0.2, "max_depth": 3}, 15, True),
    ("five_classes", y5, 5, {"objective": "multi:softprob", "num_class": 5, "max_depth": 4}, 25, True),
]


def split_values(model_json):
    """Every split threshold in the model, as float32."""
    learner = model_json["learner"]["gradient_booster"]
    trees = (learner["gbtree"] if learner["name"] == "dart" else learner)["model"]["trees"]
    found = {}
    for tree in trees:
        for node, left in enumerate(tree["left_children"]):
            if left != -1:
                found.setdefault(tree["split_indices"][node], set()).add(np.float32(tree["split_conditions"][node]))
    return found


def inputs(model_json, seed):
    """Random rows with missing values, plus rows on the split thresholds: exactly on one (goes right), and a
    double just below one that rounds to it in float32 (also right), and just below in float32 (left)."""
    X = data(N_INPUT, seed)
    r = np.random.default_rng(seed + 1)
    splits = split_values(model_json)
    edge = X[:60].copy()
    for i in range(len(edge)):
        for f, values in splits.items():
            v = float(sorted(values)[r.integers(len(values))])
            kind = i % 3
            if kind == 1:
                v = v - abs(v) * 1e-12 if v != 0 else -1e-45
            elif kind == 2:
                v = float(np.nextafter(np.float32(v), np.float32(-np.inf)))
            edge[i, f] = v
    X = np.vstack([X, edge])
    X[0, :] = np.nan  # a row of nothing but missing values
    X[1, :] = [1e30, -1e30, 0, -0.0, 1e-40, 3.4e38, -3.4e38, 7]
    return X


def write_csv(path, header, rows, blank_nan=True):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join("" if (blank_nan and np.isnan(v)) else repr(float(v)) for v in row) + "\n")


def probabilities(booster, objective, dmatrix):
    if objective in ("binary:logistic",):
        p = booster.predict(dmatrix).astype(np.float64)
        return np.column_stack([1 - p, p])
    if objective == "binary:logitraw":
        # xgboost's own logistic transform of the same margin: the model with binary:logistic, its base
        # score (a margin for logitraw) given as every row's base_margin.
        base = float(json.loads(booster.save_raw("json"))["learner"]["learner_model_param"]["base_score"].strip("[]"))
        clone = booster.copy()
        clone.set_param({"objective": "binary:logistic"})
        shifted = xgb.DMatrix(dmatrix.get_data(), missing=np.nan, feature_names=dmatrix.feature_names,
                              base_margin=np.full(dmatrix.num_row(), base, dtype=np.float32))
        assert (clone.predict(shifted, output_margin=True) == booster.predict(dmatrix, output_margin=True)).all()
        p = clone.predict(shifted).astype(np.float64)
        return np.column_stack([1 - p, p])
    if objective == "multi:softmax":
        # The same model with the probability output: xgboost's own softmax of the same margins.
        clone = booster.copy()
        clone.set_param({"objective": "multi:softprob"})
        return clone.predict(dmatrix).astype(np.float64)
    return booster.predict(dmatrix).astype(np.float64)


manifest = []
for index, (name, labels, classes, params, rounds, named) in enumerate(CASES):
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    train = xgb.DMatrix(X, label=labels, missing=np.nan, feature_names=NAMES if named else None)
    booster = xgb.train({"seed": 7 + index, "nthread": 1, "tree_method": "hist", **params}, train, rounds)
    path = os.path.join(folder, "model.json")
    booster.save_model(path)
    loaded = xgb.Booster(model_file=path)  # predictions from the file the Swift side reads
    model_json = json.load(open(path))
    rows = inputs(model_json, 100 + index)
    header = NAMES if named else [f"f{i}" for i in range(N_FEATURES)]
    dmatrix = xgb.DMatrix(rows, missing=np.nan, feature_names=NAMES if named else None)
    objective = params["objective"]
    probs = probabilities(loaded, objective, dmatrix)
    margins = loaded.predict(dmatrix, output_margin=True).astype(np.float64).reshape(len(rows), -1)
    if objective == "multi:softmax":
        assert (np.argmax(probs, axis=1) == loaded.predict(dmatrix)).all()
    write_csv(os.path.join(folder, "input.csv"), header, rows)
    write_csv(os.path.join(folder, "expected.csv"), [str(c) for c in range(classes)], probs, blank_nan=False)
    write_csv(os.path.join(folder, "margins.csv"), [str(g) for g in range(margins.shape[1])], margins, blank_nan=False)
    trees = len(model_json["learner"]["gradient_booster"].get("gbtree", model_json["learner"]["gradient_booster"])["model"]["trees"])
    manifest.append({"name": name, "objective": objective, "classes": classes, "named": named, "trees": trees,
                     "booster": params.get("booster", "gbtree"), "rows": len(rows)})

# A model directory as the trainer writes it, and an input with columns shuffled and one extra.
bundle = os.path.join(OUT, "bundle")
os.makedirs(bundle, exist_ok=True)
train = xgb.DMatrix(X, label=y3, missing=np.nan, feature_names=NAMES)
booster = xgb.train({"seed": 99, "nthread": 1, "objective": "multi:softprob", "num_class": 3, "max_depth": 4}, train, 30)
booster.save_model(os.path.join(bundle, "model.json"))
metadata = {
    "format": 1, "symbol": "BTC", "trainedAt": "2025-01-27T08:00:00Z", "dataFrom": "2025-01-01T00:00:00Z",
    "dataTo": "2025-01-26T23:59:00.500Z", "rows": N_TRAIN, "trainRows": 1200, "holdoutRows": 300, "features": NAMES,
    "featureSetVersion": 1, "classes": ["sell", "hold", "buy"],
    "classShares": {c: float((y3 == i).mean()) for i, c in enumerate(["sell", "hold", "buy"])},
    "horizonBars": 15, "neutralBandBps": 8.0, "holdoutAccuracy": 0.61, "holdoutLogLoss": 0.83,
    "xgboostVersion": xgb.__version__, "seed": 99, "source": "parity_models.py", "params": {"max_depth": "4"},
    "comment": "an unknown key: readers ignore it",
}
json.dump(metadata, open(os.path.join(bundle, "metadata.json"), "w"), indent=1)
loaded = xgb.Booster(model_file=os.path.join(bundle, "model.json"))
rows = data(40, 500)
probs = loaded.predict(xgb.DMatrix(rows, missing=np.nan, feature_names=NAMES)).astype(np.float64)
order = [6, 2, 0, 7, 1, 5, 3, 4]
with open(os.path.join(OUT, "bundle_input.csv"), "w") as f:
    f.write("timestamp," + ",".join(NAMES[i] for i in order) + "\n")
    for k, row in enumerate(rows):
        # Missing values spelled every way the command accepts: empty, nan, NaN.
        missing = "nan" if k % 5 == 0 else "NaN" if k % 7 == 0 else ""
        cells = [missing if np.isnan(row[i]) else repr(float(row[i])) for i in order]
        f.write(f"2025-01-27T00:{k:02d}:00Z," + ",".join(cells) + "\n")
write_csv(os.path.join(OUT, "bundle_expected.csv"), ["sell", "hold", "buy"], probs, blank_nan=False)

json.dump({"xgboost": xgb.__version__, "cases": manifest}, open(os.path.join(OUT, "cases.json"), "w"), indent=1)
print(f"wrote {len(manifest)} models to {OUT}")
