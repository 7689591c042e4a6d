#!/usr/bin/env python3
"""Reference 1-minute bars for MarketTests, by pandas' resample.

usage: bars.py TRADES_CSV OUT_CSV

Reads a Tardis-style trades file (timestamp in microseconds, price, amount) and writes
one row per minute that had trades: open time in ns since the epoch, OHLC, base
volume (sum of amounts), quote volume (sum of price x amount) and the trade count.
Minutes without trades are left out, as BarAggregator does.
"""

import sys

import pandas as pd


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bars.py TRADES_CSV OUT_CSV")
    trades = pd.read_csv(sys.argv[1])
    trades.index = pd.to_datetime(trades["timestamp"], unit="us", utc=True)
    trades["notional"] = trades["price"] * trades["amount"]
    minutes = trades.resample("1min")
    bars = pd.DataFrame(
        {
            "open": minutes["price"].first(),
            "high": minutes["price"].max(),
            "low": minutes["price"].min(),
            "close": minutes["price"].last(),
            "base_volume": minutes["amount"].sum(),
            "quote_volume": minutes["notional"].sum(),
            "trades": minutes["price"].count(),
        }
    )
    bars = bars[bars["trades"] > 0]
    epoch = pd.Timestamp(0, tz="UTC")
    bars.insert(0, "open_time_ns", (bars.index - epoch) // pd.Timedelta(1, "ns"))
    bars.to_csv(sys.argv[2], index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
