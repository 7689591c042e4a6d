#!/usr/bin/env python3
"""hftbacktest on the capture backtest-bench replays, for its baseline.

Converts the Binance USD-M capture with hftbacktest's own converter
(hftbacktest.data.utils.binancefutures.convert: it reads the same `<receive ns> <json>` lines, gzip),
then times, each run on a fresh HashMapMarketDepthBacktest over the converted array:
  book          elapse to the end of the data: every event applied to its local and exchange books;
  market_maker  the same quoting as backtest-bench's market maker: bid and ask `--half-spread` ticks
                around the mid (floor and ceiling), post-only (GTX), moved whenever the mid moves,
                no quote beyond `--max-position`; RiskAdverseQueueModel, no partial fills, zero order
                latency, maker fee 0.02 %; it wakes on every feed event (wait_next_feed).
The first run of each compiles the numba code and is not timed. Prints one JSON object on the
`--out` file: rows, seconds per run, p50 and p99 (nearest rank), events per second on them.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
from numba import njit

import hftbacktest
from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest, GTX, LIMIT
from hftbacktest.order import NEW, PARTIALLY_FILLED
from hftbacktest.data.utils import binancefutures

TICK_SIZE = 0.1
LOT_SIZE = 0.001
MAKER_FEE = 0.0002
TAKER_FEE = 0.0004


@njit
def replay_book(hbt):
    # One call: the backtester runs every event up to the end of the data.
    hbt.elapse(10**15)
    depth = hbt.depth(0)
    return depth.best_bid_tick + depth.best_ask_tick


@njit
def is_live(orders, order_id):
    if order_id == 0 or order_id not in orders:
        return False
    status = orders.get(order_id).status
    return status == NEW or status == PARTIALLY_FILLED


@njit
def requote(hbt, buy, live, order_id, tick, want_tick, allowed, order_qty, next_id, placed):
    """One side: cancel and replace when the price moved, cancel when the position limit forbids it."""
    if not allowed:
        if live:
            hbt.cancel(0, order_id, False)
        return order_id, tick, next_id, placed
    if live and want_tick == tick:
        return order_id, tick, next_id, placed
    if live:
        hbt.cancel(0, order_id, False)
    if buy:
        hbt.submit_buy_order(0, next_id, want_tick * TICK_SIZE, order_qty, GTX, LIMIT, False)
    else:
        hbt.submit_sell_order(0, next_id, want_tick * TICK_SIZE, order_qty, GTX, LIMIT, False)
    return next_id, want_tick, next_id + 1, placed + 1


@njit
def market_maker(hbt, half_spread_ticks, order_qty, max_position):
    next_id = 1
    bid_id = 0
    ask_id = 0
    bid_tick = 0
    ask_tick = 0
    wakeups = 0
    placed = 0
    while True:
        result = hbt.wait_next_feed(False, 10**15)
        if result == 1:
            break
        if result != 2 and result != 0:
            return -1, placed
        wakeups += 1
        depth = hbt.depth(0)
        best_bid = depth.best_bid_tick
        best_ask = depth.best_ask_tick
        # Empty sides read as extreme ticks.
        if best_bid <= -(2**62) or best_ask >= 2**62 or best_bid >= best_ask:
            continue
        orders = hbt.orders(0)
        position = hbt.position(0)
        double_mid = best_bid + best_ask
        want_bid = min((double_mid >> 1) - half_spread_ticks, best_ask - 1)
        want_ask = max(((double_mid + 1) >> 1) + half_spread_ticks, best_bid + 1)
        bid_id, bid_tick, next_id, placed = requote(
            hbt, True, is_live(orders, bid_id), bid_id, bid_tick, want_bid,
            position + order_qty <= max_position + 1e-9, order_qty, next_id, placed)
        ask_id, ask_tick, next_id, placed = requote(
            hbt, False, is_live(orders, ask_id), ask_id, ask_tick, want_ask,
            position - order_qty >= -max_position - 1e-9, order_qty, next_id, placed)
        hbt.clear_inactive_orders(0)
    return wakeups, placed


def backtester(data):
    asset = (
        BacktestAsset()
        .data(data)
        .linear_asset(1.0)
        .constant_order_latency(0, 0)
        .risk_adverse_queue_model()
        .no_partial_fill_exchange()
        .trading_value_fee_model(MAKER_FEE, TAKER_FEE)
        .tick_size(TICK_SIZE)
        .lot_size(LOT_SIZE)
        .last_trades_capacity(0)
    )
    return HashMapMarketDepthBacktest([asset])


def nearest_rank(sorted_values, percent):
    index = max(0, math.ceil(percent / 100 * len(sorted_values)) - 1)
    return sorted_values[index]


def timed(runs, rows, body):
    """Runs body(hbt) once untimed (numba compiles), then `runs` times on fresh backtesters."""
    body(backtester_for_run())
    seconds = []
    result = None
    for _ in range(runs):
        hbt = backtester_for_run()
        start = time.perf_counter_ns()
        result = body(hbt)
        seconds.append((time.perf_counter_ns() - start) / 1e9)
        stats = hbt.state_values(0)
        summary = {
            "position": stats.position, "fills": int(stats.num_trades), "fee": stats.fee,
            "balance": stats.balance, "volume": stats.trading_volume,
        }
        hbt.close()
    ordered = sorted(seconds)
    p50, p99 = nearest_rank(ordered, 50), nearest_rank(ordered, 99)
    return {
        "seconds": seconds, "p50_seconds": p50, "p99_seconds": p99,
        "events_per_second_p50": rows / p50, "events_per_second_p99": rows / p99,
        "result": [int(value) for value in np.atleast_1d(result)], "account": summary,
    }


DATA = None


def backtester_for_run():
    return backtester(DATA)


def main():
    global DATA
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--capture", required=True, help="the Binance USD-M capture (.ndjson.gz)")
    parser.add_argument("--work-dir", required=True, help="where the converted .npz goes (never committed)")
    parser.add_argument("--out", required=True, help="the JSON result file")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--half-spread", type=int, default=1, help="ticks between the mid and each quote")
    parser.add_argument("--order-lots", type=int, default=1)
    parser.add_argument("--max-position-lots", type=int, default=10)
    args = parser.parse_args()
    if not os.path.isfile(args.capture):
        sys.exit(f"no capture at {args.capture}")
    os.makedirs(args.work_dir, exist_ok=True)

    start = time.perf_counter()
    DATA = binancefutures.convert(args.capture, output_filename=os.path.join(args.work_dir, "converted.npz"))
    convert_seconds = time.perf_counter() - start
    rows = len(DATA)

    order_qty = args.order_lots * LOT_SIZE
    max_position = args.max_position_lots * LOT_SIZE
    book = timed(args.runs, rows, replay_book)
    maker = timed(args.runs, rows, lambda hbt: market_maker(hbt, args.half_spread, order_qty, max_position))
    result = {
        "hftbacktest": hftbacktest.__version__, "rows": rows, "convert_seconds": convert_seconds,
        "feed_latency_ms_p50": float(np.median(DATA["local_ts"] - DATA["exch_ts"])) / 1e6,
        "workloads": {"book": book, "market_maker": maker},
    }
    with open(args.out, "w") as file:
        json.dump(result, file)


if __name__ == "__main__":
    main()
