"""The official Hyperliquid Python SDK (hyperliquid-python-sdk 0.24.0) against a running exchange-sim.

Run by ExchangeSimTests/OfficialSDKTests.swift, which starts exchange-sim, funds TEST_KEY's address and
passes EXCHANGE_SIM_URL. Run alone (pytest Tests/ExchangeSimTests/sdk), the fixture starts the binary
itself from $BREAKWATER_BIN_DIR or <root>/.build/debug.
"""

import os
import queue
import re
import socket
import subprocess
import time
from pathlib import Path

import eth_account
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

# A throwaway key used only against the simulator.
TEST_KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
WALLET = eth_account.Account.from_key(TEST_KEY)
ROOT = Path(__file__).resolve().parents[3]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def base_url():
    url = os.environ.get("EXCHANGE_SIM_URL")
    if url:
        yield url
        return
    bin_dir = Path(os.environ.get("BREAKWATER_BIN_DIR", ROOT / ".build" / "debug"))
    port = _free_port()
    proc = subprocess.Popen(
        [str(bin_dir / "exchange-sim"), "--port", str(port), "--fund", f"{WALLET.address}=100000"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 20
        line = ""
        while time.time() < deadline and "listening on" not in line:
            line = proc.stdout.readline()
        assert "listening on" in line, "exchange-sim did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def info(base_url):
    return Info(base_url, skip_ws=True)


@pytest.fixture(scope="module")
def exchange(base_url):
    return Exchange(WALLET, base_url)


def _mid(info, coin="BTC"):
    deadline = time.time() + 10
    while time.time() < deadline:
        mids = info.all_mids()
        if coin in mids:
            return float(mids[coin])
        time.sleep(0.2)
    raise AssertionError(f"no mid for {coin}")


def test_meta_lists_btc_and_eth(info):
    universe = info.meta()["universe"]
    names = [asset["name"] for asset in universe]
    assert names[:2] == ["BTC", "ETH"]
    assert universe[0]["szDecimals"] == 5 and universe[0]["maxLeverage"] == 40
    assert universe[1]["szDecimals"] == 4 and universe[1]["maxLeverage"] == 25
    assert info.name_to_asset("ETH") == 1


def test_resting_gtc_then_cancel(info, exchange):
    px = round(_mid(info) * 0.9)  # integer prices are always valid
    result = exchange.order("BTC", True, 0.001, px, {"limit": {"tif": "Gtc"}})
    assert result["status"] == "ok", result
    status = result["response"]["data"]["statuses"][0]
    oid = status["resting"]["oid"]

    open_orders = info.open_orders(WALLET.address)
    assert any(o["oid"] == oid and o["coin"] == "BTC" and o["side"] == "B" for o in open_orders)
    frontend = info.frontend_open_orders(WALLET.address)
    assert any(o["oid"] == oid and o["orderType"] == "Limit" and o["tif"] == "Gtc" for o in frontend)
    assert info.query_order_by_oid(WALLET.address, oid)["order"]["status"] == "open"

    cancel = exchange.cancel("BTC", oid)
    assert cancel == {"status": "ok", "response": {"type": "cancel", "data": {"statuses": ["success"]}}}
    assert all(o["oid"] != oid for o in info.open_orders(WALLET.address))
    assert info.query_order_by_oid(WALLET.address, oid)["order"]["status"] == "canceled"

    again = exchange.cancel("BTC", oid)
    assert again["response"]["data"]["statuses"][0] == {
        "error": "Order was never placed, already canceled, or filled. asset=0"}


def test_ioc_fills_and_shows_in_user_state(info, exchange):
    before = info.user_state(WALLET.address)
    szi_before = sum(float(p["position"]["szi"]) for p in before["assetPositions"] if p["position"]["coin"] == "BTC")
    px = round(_mid(info) * 1.01)
    result = exchange.order("BTC", True, 0.002, px, {"limit": {"tif": "Ioc"}})
    assert result["status"] == "ok", result
    filled = result["response"]["data"]["statuses"][0]["filled"]
    assert filled["totalSz"] == "0.002"
    assert float(filled["avgPx"]) <= px

    state = info.user_state(WALLET.address)
    btc = [p["position"] for p in state["assetPositions"] if p["position"]["coin"] == "BTC"]
    assert btc and abs(float(btc[0]["szi"]) - szi_before - 0.002) < 1e-9
    assert float(state["marginSummary"]["accountValue"]) > 0
    fills = info.user_fills(WALLET.address)
    assert fills[0]["coin"] == "BTC" and fills[0]["side"] == "B" and fills[0]["crossed"] is True


def test_errors_use_the_exchange_strings(info, exchange):
    mid = _mid(info)
    too_small = exchange.order("BTC", True, 0.00001, round(mid * 0.9), {"limit": {"tif": "Gtc"}})
    assert too_small["response"]["data"]["statuses"][0] == {"error": "Order must have minimum value of $10."}
    no_match = exchange.order("BTC", True, 0.001, round(mid * 0.5), {"limit": {"tif": "Ioc"}})
    assert no_match["response"]["data"]["statuses"][0] == {
        "error": "Order could not immediately match against any resting orders. asset=0"}
    post_only = exchange.order("BTC", True, 0.001, round(mid * 1.05), {"limit": {"tif": "Alo"}})
    assert post_only["response"]["data"]["statuses"][0]["error"].startswith(
        "Post only order would have immediately matched, bbo was ")


def test_update_leverage(info, exchange):
    result = exchange.update_leverage(10, "BTC")
    assert result == {"status": "ok", "response": {"type": "default"}}
    too_high = exchange.update_leverage(41, "BTC")
    assert too_high["status"] == "err"
    state = info.user_state(WALLET.address)
    btc = [p["position"] for p in state["assetPositions"] if p["position"]["coin"] == "BTC"]
    if btc:
        assert btc[0]["leverage"] == {"type": "cross", "value": 10}


def test_schedule_cancel_fires(info, exchange):
    too_early = exchange.schedule_cancel(int(time.time() * 1000) + 1000)
    assert too_early == {"status": "err",
                         "response": "Scheduled cancel time too early, must be at least 5 seconds from now."}
    assert exchange.schedule_cancel(None) == {"status": "ok", "response": {"type": "default"}}

    px = round(_mid(info) * 0.9)
    oid = exchange.order("BTC", True, 0.001, px, {"limit": {"tif": "Gtc"}})["response"]["data"]["statuses"][0][
        "resting"]["oid"]
    fire_at = int(time.time() * 1000) + 5500
    assert exchange.schedule_cancel(fire_at) == {"status": "ok", "response": {"type": "default"}}
    deadline = time.time() + 15
    while time.time() < deadline and any(o["oid"] == oid for o in info.open_orders(WALLET.address)):
        time.sleep(0.25)
    assert all(o["oid"] != oid for o in info.open_orders(WALLET.address))
    assert info.query_order_by_oid(WALLET.address, oid)["order"]["status"] == "scheduledCancel"


def test_websocket_l2book_and_user_fills(base_url, exchange):
    ws_info = Info(base_url)  # starts the SDK's WebsocketManager
    books, fills = queue.Queue(), queue.Queue()
    try:
        ws_info.subscribe({"type": "l2Book", "coin": "BTC"}, books.put)
        ws_info.subscribe({"type": "userFills", "user": WALLET.address}, fills.put)
        book = books.get(timeout=10)
        assert book["channel"] == "l2Book" and book["data"]["coin"] == "BTC"
        bids, asks = book["data"]["levels"]
        assert bids and asks and float(bids[0]["px"]) < float(asks[0]["px"])
        snapshot = fills.get(timeout=10)
        assert snapshot["channel"] == "userFills" and snapshot["data"]["isSnapshot"] is True
        assert snapshot["data"]["user"] == WALLET.address.lower()

        px = round(float(ws_info.all_mids()["BTC"]) * 1.01)
        result = exchange.order("BTC", True, 0.001, px, {"limit": {"tif": "Ioc"}})
        assert "filled" in result["response"]["data"]["statuses"][0], result
        update = fills.get(timeout=10)
        assert update["channel"] == "userFills" and "isSnapshot" not in update["data"]
        assert update["data"]["fills"][0]["coin"] == "BTC"
    finally:
        ws_info.disconnect_websocket()


def test_unknown_signer_is_refused(base_url):
    stranger = eth_account.Account.create()
    result = Exchange(stranger, base_url).order("BTC", True, 0.001, 50000, {"limit": {"tif": "Gtc"}})
    assert result == {"status": "err", "response": f"User or API Wallet {stranger.address.lower()} does not exist."}


def test_rate_limit_answers_429_like_the_exchange(base_url):
    # Read-only and cheap for the simulator: l2Book weighs 2, 1,200 per minute. A separate client IP is
    # not available on loopback, so this only checks the 429 shape once the budget is gone.
    import requests
    session = requests.Session()
    statuses = set()
    for _ in range(700):
        r = session.post(base_url + "/info", json={"type": "l2Book", "coin": "BTC"})
        statuses.add(r.status_code)
        if r.status_code == 429:
            assert r.text == "null"
            break
    assert 429 in statuses
