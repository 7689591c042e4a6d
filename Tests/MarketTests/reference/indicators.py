#!/usr/bin/env python3
"""Reference indicator values for MarketTests, from implementations that are not ours.

usage: indicators.py CANDLES_CSV OUT_CSV

Reads the 1-minute candle file (timestamp,open,high,low,close,volume) and writes one
row per candle with the reference columns below; a value still warming up is empty.

Which reference defines which indicator (the Swift types document the same choice):
- SMA, EMA seeded with the first price, ROC, ATR (first true range = high - low,
  first ATR = mean of the first n true ranges): the `ta` package.
- Bollinger Bands: `ta`'s definition (SMA +/- k population std devs, its bandwidth
  and %B), but computed two-pass per window here: `ta` gets the std dev from pandas'
  online rolling variance, whose error on prices near 40,000 reaches 2e-8 relative
  (checked against exact rational arithmetic), too coarse for a 1e-9 comparison.
  The script still asserts that `ta`'s bands agree with these to 1e-7.
- RSI (Wilder, first averages = simple means of the first n changes) and EMA seeded
  with the simple average of the first n prices: TA-Lib, whose definitions these are.
- Realised volatility (sample std dev of log returns over n returns, times
  sqrt(factor)): pandas; `ta` has no such indicator.
"""

import math
import sys

import numpy as np
import pandas as pd
import talib
from numpy.lib.stride_tricks import sliding_window_view
from ta.momentum import ROCIndicator
from ta.trend import EMAIndicator, SMAIndicator
from ta.volatility import AverageTrueRange, BollingerBands

MINUTES_PER_YEAR = 525_600


def atr_ta(high, low, close, window):
    values = AverageTrueRange(high, low, close, window=window).average_true_range()
    # ta fills the warm-up with zeros rather than NaN; blank them so "warming up" is visible.
    values.iloc[: window - 1] = np.nan
    return values


def bollinger(close, window, k):
    values = close.to_numpy()
    windows = sliding_window_view(values, window)
    mean = windows.mean(axis=1)
    deviation = np.sqrt(((windows - mean[:, None]) ** 2).sum(axis=1) / window)
    warm_up = np.full(window - 1, np.nan)
    middle = np.concatenate([warm_up, mean])
    upper = np.concatenate([warm_up, mean + k * deviation])
    lower = np.concatenate([warm_up, mean - k * deviation])
    bands = {
        "bb_middle": middle,
        "bb_upper": upper,
        "bb_lower": lower,
        "bb_bandwidth": (upper - lower) / middle * 100,
        "bb_percent_b": (values - lower) / (upper - lower),
    }
    # Same definition as ta's, only more precise.
    ta_bands = BollingerBands(close, window=window, window_dev=k)
    for name, ta_values in [
        ("bb_middle", ta_bands.bollinger_mavg()),
        ("bb_upper", ta_bands.bollinger_hband()),
        ("bb_lower", ta_bands.bollinger_lband()),
        ("bb_bandwidth", ta_bands.bollinger_wband()),
        ("bb_percent_b", ta_bands.bollinger_pband()),
    ]:
        if not np.allclose(ta_values.to_numpy(), bands[name], rtol=1e-7, atol=1e-6, equal_nan=True):
            sys.exit(f"{name}: two-pass values disagree with ta's")
    return bands


def realised_volatility(close, window, factor=1.0):
    returns = np.log(close).diff()
    return returns.rolling(window, min_periods=window).std(ddof=1) * math.sqrt(factor)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: indicators.py CANDLES_CSV OUT_CSV")
    candles = pd.read_csv(sys.argv[1])
    high, low, close = candles["high"], candles["low"], candles["close"]
    bands = bollinger(close, window=20, k=2)

    out = pd.DataFrame(
        {
            "sma_20": SMAIndicator(close, window=20).sma_indicator(),
            "sma_200": SMAIndicator(close, window=200).sma_indicator(),
            "ema_12_first": EMAIndicator(close, window=12).ema_indicator(),
            "ema_26_first": EMAIndicator(close, window=26).ema_indicator(),
            "ema_12_sma": talib.EMA(close.to_numpy(), timeperiod=12),
            "ema_26_sma": talib.EMA(close.to_numpy(), timeperiod=26),
            "rsi_14": talib.RSI(close.to_numpy(), timeperiod=14),
            "rsi_2": talib.RSI(close.to_numpy(), timeperiod=2),
            "atr_14": atr_ta(high, low, close, 14),
            **bands,
            "roc_10": ROCIndicator(close, window=10).roc(),
            "rv_30": realised_volatility(close, 30),
            "rv_30_annual": realised_volatility(close, 30, MINUTES_PER_YEAR),
        }
    )
    out.insert(0, "timestamp", candles["timestamp"])
    # %.17g round-trips every double, so the comparison sees the reference's exact bits.
    out.to_csv(sys.argv[2], index=False, float_format="%.17g", na_rep="")


if __name__ == "__main__":
    main()
