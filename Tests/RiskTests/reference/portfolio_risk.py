#!/usr/bin/env python3
"""Reference VaR, ES, stress days and correlations for RiskTests, with numpy and pandas.

usage: portfolio_risk.py CANDLES_CSV OUT_JSON

Symbols (the Swift test builds the same ones from the same file):
- BTC: the candle close c_t.
- POW: c_t**2 / 40000 (twice BTC's log return: correlated ~1), with bars 20000..20099 removed,
  so scenarios that start or end in that gap must drop out on both sides.
- LAG: c_(t-30) at bar t (BTC 30 minutes late; starts 30 bars later): one-bar returns almost
  uncorrelated with BTC, daily returns strongly correlated.
- INV: 1e9 / c_t (correlated ~-1).

Definitions (independent of the Swift code, stated by the Swift doc comments):
- A scenario ending at bar e is close(e)/close(e - h bars) - 1 for every symbol; ends are
  anchor - k*step bars (anchor = latest bar every symbol has), kept only where every symbol has
  both bars; the last `window` of them are used.
- loss = -(returns @ notional); VaR = numpy's inverted_cdf quantile of the losses at c;
  ES = mean of the losses >= VaR.
- correlation: pandas DataFrame.corr (Pearson) of the scenario returns.
"""

import json
import math
import sys

import numpy as np
import pandas as pd

GAP = range(20000, 20100)
LAG = 30
SYMBOLS = ["BTC", "POW", "LAG", "INV"]

PORTFOLIOS = {
    "long_btc": {"BTC": 10000.0},
    "mixed": {"BTC": 10000.0, "POW": -4000.0, "LAG": 3000.0, "INV": 2500.0},
    "hedged": {"BTC": -5000.0, "INV": -5000.0},
}

# name, horizon bars, step bars, window, confidences
CONFIGS = [
    ("daily", 1440, 1440, 250, [0.99, 0.95]),
    ("daily_overlapping", 1440, 1, 1_000_000, [0.99, 0.975]),
    ("hourly", 60, 60, 500, [0.99, 0.975]),
]


def closes(path):
    df = pd.read_csv(path)
    times = pd.to_datetime(df["timestamp"]).astype("datetime64[ns]").astype("int64").to_numpy()
    c = df["close"].to_numpy(dtype=float)
    series = {
        "BTC": pd.Series(c, index=times),
        "POW": pd.Series(c * c / 40000.0, index=times).drop(times[list(GAP)]),
        "LAG": pd.Series(c[:-LAG], index=times[LAG:]),
        "INV": pd.Series(1e9 / c, index=times),
    }
    minute = 60 * 10**9
    grid = np.arange(times[0], times[-1] + minute, minute)
    return pd.DataFrame({s: series[s].reindex(grid) for s in SYMBOLS}, index=grid), minute


def joint_returns(frame, minute, horizon, step, window):
    r = frame / frame.shift(horizon) - 1.0
    complete = frame.dropna()
    anchor = complete.index[-1]
    earliest = max(frame[s].first_valid_index() for s in frame.columns)
    ends = []
    end = anchor
    while end - horizon * minute >= earliest:
        ends.append(end)
        end -= step * minute
    picked = r.loc[ends[::-1]].dropna()
    return picked.iloc[-window:]


def var_es(returns, notional, confidence):
    w = np.array([notional.get(s, 0.0) for s in returns.columns])
    losses = -(returns.to_numpy() @ w)
    var = float(np.quantile(losses, confidence, method="inverted_cdf"))
    # The same quantile by its definition: the smallest loss whose ECDF reaches c.
    ordered = np.sort(losses)
    m = int(math.ceil(len(losses) * confidence))
    assert ordered[m - 1] == var, (ordered[m - 1], var)
    es = float(losses[losses >= var].mean())
    worst_end = int(returns.index[int(np.argmax(losses))])
    return var, es, worst_end


def main():
    frame, minute = closes(sys.argv[1])
    out = {"cases": [], "correlation": [], "worst_days": [], "joint": []}
    for name, horizon, step, window, confidences in CONFIGS:
        for pname, notional in PORTFOLIOS.items():
            symbols = [s for s in SYMBOLS if s in notional]
            returns = joint_returns(frame[symbols], minute, horizon, step, window)
            for c in confidences:
                var, es, worst_end = var_es(returns, notional, c)
                out["cases"].append({
                    "config": name, "horizon": horizon, "step": step, "window": window, "confidence": c,
                    "portfolio": pname, "notional": notional, "scenarios": len(returns),
                    "value_at_risk": var, "expected_shortfall": es, "worst_end": worst_end,
                })
        returns = joint_returns(frame, minute, horizon, step, window)
        out["joint"].append({
            "config": name, "horizon": horizon, "step": step, "window": window, "scenarios": len(returns),
            "first_end": int(returns.index[0]), "last_end": int(returns.index[-1]),
            "first": returns.iloc[0].tolist(), "last": returns.iloc[-1].tolist(),
        })
        out["worst_days"].append({
            "config": name, "horizon": horizon, "step": step, "window": window,
            "min": returns.min().tolist(), "max": returns.max().tolist(),
        })
    for name, horizon, window in [("one_bar_1440", 1, 1440), ("one_bar_10000", 1, 10000), ("daily", 1440, 250)]:
        step = 1 if horizon == 1 else horizon
        returns = joint_returns(frame, minute, horizon, step, window)
        matrix = returns.corr(method="pearson")
        # numpy's corrcoef is a second, separate implementation: they must agree.
        assert np.allclose(matrix.to_numpy(), np.corrcoef(returns.to_numpy().T), rtol=1e-12, atol=1e-12)
        out["correlation"].append({
            "name": name, "horizon": horizon, "step": step, "window": window, "samples": len(returns),
            "symbols": list(matrix.columns), "matrix": matrix.to_numpy().tolist(),
        })
    with open(sys.argv[2], "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
