/// The training half that needs the `xgboost` package: reads the training set CSV that Swift wrote
/// (`time,<features…>,label`, empty cell = missing), splits it in time order, trains, scores the
/// holdout and writes `model.json`. Prints one JSON object: the figures and, for the parity check,
/// the package's own probabilities for the first holdout rows. Deterministic for a seed (one thread).
let modelTrainingScript = #"""
import json, math, sys
import numpy as np
import xgboost as xgb

job = json.loads(sys.argv[1])
table = np.genfromtxt(job["data"], delimiter=",", skip_header=1, filling_values=np.nan, dtype=np.float64)
if table.ndim == 1:
    table = table.reshape(1, -1)
features = table[:, 1:-1].astype(np.float32)
labels = table[:, -1].astype(np.int64)
rows = len(labels)
holdout_rows = max(1, int(round(rows * job["holdoutFraction"])))
train_rows = rows - holdout_rows
if train_rows < 10:
    print(json.dumps({"error": f"{rows} rows leave {train_rows} to train on; need at least 10"}))
    sys.exit(3)
names = job["features"]
train = xgb.DMatrix(features[:train_rows], label=labels[:train_rows], feature_names=names, missing=np.nan)
holdout = xgb.DMatrix(features[train_rows:], label=labels[train_rows:], feature_names=names, missing=np.nan)
params = {
    "objective": "multi:softprob", "num_class": 3, "max_depth": job["maxDepth"], "eta": job["learningRate"],
    "subsample": 0.8, "colsample_bytree": 0.8, "min_child_weight": 5, "tree_method": "hist",
    "seed": job["seed"], "nthread": 1, "eval_metric": "mlogloss",
}
booster = xgb.train(params, train, num_boost_round=job["rounds"])
booster.save_model(job["model"])
probabilities = booster.predict(holdout)
truth = labels[train_rows:]
predicted = probabilities.argmax(axis=1)
accuracy = float((predicted == truth).mean())
picked = np.clip(probabilities[np.arange(len(truth)), truth], 1e-15, 1.0)
log_loss = float(-np.log(picked).mean())
sample = min(job["paritySample"], holdout_rows)
print(json.dumps({
    "xgboostVersion": xgb.__version__,
    "trainRows": train_rows, "holdoutRows": holdout_rows,
    "holdoutAccuracy": accuracy, "holdoutLogLoss": log_loss,
    "predictedShares": [float((predicted == k).mean()) for k in range(3)],
    "params": {k: str(v) for k, v in params.items()} | {"num_boost_round": str(job["rounds"])},
    "parityRows": list(range(train_rows, train_rows + sample)),
    "parityProbabilities": probabilities[:sample].astype(np.float64).tolist(),
}))
"""#
