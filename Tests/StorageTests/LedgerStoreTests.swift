import Foundation
import GRDB
import Schema
import Storage
import Testing
import TestSupport

@Suite("LedgerStore")
struct LedgerStoreTests {
    @Test("the ledger runs in WAL mode with synchronous=FULL")
    func pragmas() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try LedgerStore(path: directory.path("ledger.sqlite"))
        #expect(try store.queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
        #expect(try store.queue.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
        let indexes = try store.queue.read { db in
            try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'")
        }
        #expect(Set(indexes) == ["ledger_order_status", "ledger_fill_symbol"])
    }

    @Test("a recorded order reads back whole, as new and unfilled")
    func recordOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try LedgerStore(path: directory.path("ledger.sqlite"))
        let order = command("cl-1", size: "0.12345678")
        try store.recordOrder(order, at: 1_000)
        let stored = try #require(try store.order("cl-1"))
        #expect(stored.command == order)
        #expect(stored.status == .new)
        #expect(stored.venueOrderId == nil)
        #expect(stored.filledSize == .zero)
        #expect(stored.remaining == "0.12345678")
        #expect(stored.createdAt == 1_000)
        #expect(try store.order("cl-unknown") == nil)
    }

    @Test("a client order id is refused the second time, also by a new store on the same file")
    func duplicateClientOrderId() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("ledger.sqlite")
        do {
            let store = try LedgerStore(path: path)
            try store.recordOrder(command("cl-1"), at: 1)
            #expect(throws: LedgerStore.StoreError.duplicateClientOrderId("cl-1")) {
                try store.recordOrder(command("cl-1", size: "9"), at: 2)
            }
            // Refused whatever the order's state.
            try store.setStatus("cl-1", .canceled, at: 3)
            #expect(throws: LedgerStore.StoreError.duplicateClientOrderId("cl-1")) {
                try store.recordOrder(command("cl-1"), at: 4)
            }
        }
        let reopened = try LedgerStore(path: path)
        #expect(throws: LedgerStore.StoreError.duplicateClientOrderId("cl-1")) {
            try reopened.recordOrder(command("cl-1"), at: 5)
        }
        // The refused attempts changed nothing.
        let stored = try #require(try reopened.order("cl-1"))
        #expect(stored.command.size == "0.5")
        #expect(stored.createdAt == 1)
        #expect(try reopened.orders().count == 1)
        #expect(
            LedgerStore.StoreError.duplicateClientOrderId("cl-1").description == "client order id cl-1 was used before")
    }

    @Test("setStatus changes the status, keeps a venue order id once given, and refuses an unknown order")
    func setStatus() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try LedgerStore(path: directory.path("ledger.sqlite"))
        try store.recordOrder(command("cl-1"), at: 1)
        try store.setStatus("cl-1", .acked, venueOrderId: "venue-9", at: 2)
        var stored = try #require(try store.order("cl-1"))
        #expect(stored.status == .acked)
        #expect(stored.venueOrderId == "venue-9")
        try store.setStatus("cl-1", .canceled, at: 3)
        stored = try #require(try store.order("cl-1"))
        #expect(stored.status == .canceled)
        #expect(stored.venueOrderId == "venue-9")
        #expect(throws: LedgerStore.StoreError.unknownOrder("cl-404")) {
            try store.setStatus("cl-404", .acked, at: 4)
        }
        #expect(try store.order("cl-404") == nil)
    }

    @Test("recordFill is idempotent by fill id and moves the order to partially filled, then filled")
    func recordFill() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try LedgerStore(path: directory.path("ledger.sqlite"))
        try store.recordOrder(command("cl-1", size: "0.5"), at: 1)
        try store.setStatus("cl-1", .acked, venueOrderId: "v-1", at: 2)

        #expect(try store.recordFill(fill("f-1", order: "cl-1", size: "0.2")))
        var stored = try #require(try store.order("cl-1"))
        #expect(stored.status == .partiallyFilled)
        #expect(stored.filledSize == "0.2")
        #expect(stored.remaining == "0.3")

        // The same fill again (a replay after reconnect) changes nothing.
        #expect(try store.recordFill(fill("f-1", order: "cl-1", size: "0.2")) == false)
        stored = try #require(try store.order("cl-1"))
        #expect(stored.filledSize == "0.2")
        #expect(try store.fills().count == 1)

        #expect(try store.recordFill(fill("f-2", order: "cl-1", size: "0.3")))
        stored = try #require(try store.order("cl-1"))
        #expect(stored.status == .filled)
        #expect(stored.filledSize == "0.5")
        #expect(stored.remaining == .zero)
        #expect(stored.venueOrderId == "v-1")
        #expect(try store.recordFill(fill("f-2", order: "cl-1", size: "0.3")) == false)
        #expect(try store.order("cl-1")?.filledSize == "0.5")
    }

    @Test("a fill for an unknown order is refused and not recorded")
    func fillForUnknownOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try LedgerStore(path: directory.path("ledger.sqlite"))
        #expect(throws: LedgerStore.StoreError.unknownOrder("cl-ghost")) {
            try store.recordFill(fill("f-1", order: "cl-ghost", size: "1"))
        }
        #expect(try store.fills().isEmpty)
        // Refused again, not remembered as "already recorded".
        #expect(throws: LedgerStore.StoreError.unknownOrder("cl-ghost")) {
            try store.recordFill(fill("f-1", order: "cl-ghost", size: "1"))
        }
    }

    @Test("liveOrders are new, acked and partially filled ones, oldest first")
    func liveOrders() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try LedgerStore(path: directory.path("ledger.sqlite"))
        try store.recordOrder(command("cl-new"), at: 60)
        try store.recordOrder(command("cl-acked"), at: 50)
        try store.recordOrder(command("cl-partial", size: "1"), at: 40)
        try store.recordOrder(command("cl-filled", size: "1"), at: 30)
        try store.recordOrder(command("cl-rejected"), at: 20)
        try store.recordOrder(command("cl-canceled"), at: 10)
        try store.setStatus("cl-acked", .acked, at: 61)
        try store.recordFill(fill("f-1", order: "cl-partial", size: "0.25"))
        try store.recordFill(fill("f-2", order: "cl-filled", size: "1"))
        try store.setStatus("cl-rejected", .rejected, at: 62)
        try store.setStatus("cl-canceled", .canceled, at: 63)

        let live = try store.liveOrders()
        #expect(live.map(\.command.clientOrderId) == ["cl-partial", "cl-acked", "cl-new"])
        #expect(live.map(\.status) == [.partiallyFilled, .acked, .new])
        #expect(live.allSatisfy { $0.status.isLive })
        #expect(try store.orders().map(\.command.clientOrderId) == [
            "cl-canceled", "cl-rejected", "cl-filled", "cl-partial", "cl-acked", "cl-new",
        ])
        for status: LedgerStore.OrderStatus in [.filled, .rejected, .canceled] {
            #expect(!status.isLive)
        }
    }

    @Test(
        "a late fill on a canceled order updates the filled size but leaves it canceled, not live")
    func lateFillOnCanceledOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try LedgerStore(path: directory.path("ledger.sqlite"))
        try store.recordOrder(command("cl-1", size: "1"), at: 1)
        try store.setStatus("cl-1", .canceled, at: 2)
        // The venue filled part of it before the cancel took effect; the fill arrives afterwards.
        #expect(try store.recordFill(fill("f-1", order: "cl-1", size: "0.4")))
        let stored = try #require(try store.order("cl-1"))
        #expect(stored.filledSize == "0.4")
        #expect(stored.status == .canceled)
        #expect(try store.liveOrders().isEmpty)
    }

    @Test("fills() returns fills in the order recorded, with exact amounts")
    func fillsInRecordedOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try LedgerStore(path: directory.path("ledger.sqlite"))
        try store.recordOrder(command("cl-1", size: "10"), at: 1)
        try store.recordOrder(command("cl-2", size: "10", side: .sell), at: 2)
        // Recorded order differs from time order and from fill id order.
        let fills = [
            fill("f-c", order: "cl-1", size: "0.00000001", price: "105055.55", fee: "0.000000000001", time: 300),
            fill("f-a", order: "cl-2", size: "1.23456789", price: "0.000123", fee: "-0.0012", side: .sell, time: 100),
            fill(
                "f-b", order: "cl-1", size: "3.3", price: "99999999999999999999.99999999", fee: "0", time: 200),
        ]
        for fill in fills { try store.recordFill(fill) }
        let read = try store.fills()
        #expect(read == fills)
        #expect(read.map(\.fillId) == ["f-c", "f-a", "f-b"])
        #expect(read[1].fee == Amount("-0.0012"))
        #expect(read[2].price.description == "99999999999999999999.99999999")
        #expect(try store.order("cl-1")?.filledSize == "3.30000001")
        // Stored as exact decimal text, not as floating point.
        let texts = try store.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT price, size, fee, typeof(price) AS kind FROM ledger_fill ORDER BY seq")
        }
        #expect(texts.map { $0["kind"] as String } == ["text", "text", "text"])
        #expect(texts.map { $0["size"] as String } == ["0.00000001", "1.23456789", "3.3"])
    }

    @Test("orders, statuses and fills survive reopening the database")
    func survivesReopening() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("ledger.sqlite")
        let fills = [
            fill("f-1", order: "cl-1", size: "0.1", time: 10), fill("f-2", order: "cl-1", size: "0.15", time: 20),
            fill("f-3", order: "cl-2", size: "2", time: 30),
        ]
        do {
            let store = try LedgerStore(path: path)
            try store.recordOrder(command("cl-1", size: "0.5"), at: 1)
            try store.recordOrder(command("cl-2", size: "2"), at: 2)
            try store.recordOrder(command("cl-3"), at: 3)
            try store.setStatus("cl-1", .acked, venueOrderId: "v-1", at: 4)
            try store.setStatus("cl-3", .rejected, at: 5)
            for fill in fills { try store.recordFill(fill) }
        }
        let store = try LedgerStore(path: path)
        #expect(try store.fills() == fills)
        let one = try #require(try store.order("cl-1"))
        #expect(one.status == .partiallyFilled)
        #expect(one.filledSize == "0.25")
        #expect(one.venueOrderId == "v-1")
        #expect(one.command == command("cl-1", size: "0.5"))
        #expect(try store.order("cl-2")?.status == .filled)
        #expect(try store.order("cl-3")?.status == .rejected)
        #expect(try store.liveOrders().map(\.command.clientOrderId) == ["cl-1"])
        // Idempotency and duplicate checks hold across the reopen too.
        #expect(try store.recordFill(fills[0]) == false)
        #expect(throws: LedgerStore.StoreError.duplicateClientOrderId("cl-2")) {
            try store.recordOrder(command("cl-2"), at: 9)
        }
        #expect(try store.recordFill(fill("f-4", order: "cl-1", size: "0.25", time: 40)))
        #expect(try store.order("cl-1")?.status == .filled)
    }
}
