#!/usr/bin/env python3
"""Reference values of the model feature set (BarFeatures) for MarketTests.

usage: features.py CANDLES_CSV OUT_CSV

Each column is composed from TA-Lib (SMA, EMA seeded with the simple average, Wilder's RSI),
`ta`'s ATR (whose first true range is high - low) and numpy, following BarFeatures' documented
definitions, not its code. A row is empty until every column is warm (50 bars); a value that cannot be computed is empty too.
"""

import sys

import numpy as np
import pandas as pd
import talib
from numpy.lib.stride_tricks import sliding_window_view
from ta.volatility import AverageTrueRange

candles = pd.read_csv(sys.argv[1])
close = candles["close"].to_numpy(dtype=np.float64)
high = candles["high"].to_numpy(dtype=np.float64)
low = candles["low"].to_numpy(dtype=np.float64)
volume = candles["volume"].to_numpy(dtype=np.float64)
n = len(close)

log_close = np.log(close)
def log_return(k):
    out = np.full(n, np.nan)
    out[k:] = log_close[k:] - log_close[:-k]
    return out

sma10, sma20, sma50 = (talib.SMA(close, p) for p in (10, 20, 50))
rsi = talib.RSI(close, 14)
ema12, ema26 = talib.EMA(close, 12), talib.EMA(close, 26)
macd = ema12 - ema26
signal = np.full(n, np.nan)
first = np.argmax(~np.isnan(macd))
signal[first:] = talib.EMA(macd[first:], 9)
# ATR as `ta` defines it (first true range = high - low), as indicators.py checks it.
atr = AverageTrueRange(candles["high"], candles["low"], candles["close"], window=14).average_true_range().to_numpy()
middle = sma20
def rolling_std(values, window, ddof):
    # Two passes per window: pandas' online rolling variance drifts by ~1e-8 relative on prices.
    out = np.full(len(values), np.nan)
    windows = sliding_window_view(values, window)
    out[window - 1:] = windows.std(axis=1, ddof=ddof)
    return out

std = rolling_std(close, 20, 0)
upper, lower = middle + 2 * std, middle - 2 * std
width = upper - lower
with np.errstate(divide="ignore", invalid="ignore"):
    percent_b = np.where(width > 0, (close - lower) / width, np.nan)
    bandwidth = np.where(middle > 0, width / middle, np.nan)
    volume_slow = talib.SMA(volume, 20)
    volume_trend = np.where(volume_slow > 0, talib.SMA(volume, 5) / volume_slow - 1, np.nan)
returns = log_return(1)
volatility = rolling_std(returns, 20, 1)

columns = {
    "return_1": returns, "return_5": log_return(5), "return_15": log_return(15),
    "close_sma_20": close / sma20 - 1, "sma_10_50": sma10 / sma50 - 1, "rsi_14": rsi / 100,
    "macd": macd / close, "macd_signal": signal / close, "macd_histogram": (macd - signal) / close,
    "atr_14": atr / close, "bollinger_percent_b": percent_b, "bollinger_bandwidth": bandwidth,
    "volume_trend": volume_trend, "volatility_20": volatility, "range_1": (high - low) / close,
}
frame = pd.DataFrame(columns)
frame.iloc[:49] = np.nan
frame.insert(0, "timestamp", candles["timestamp"])
frame.to_csv(sys.argv[2], index=False, float_format="%.17g")
