import Foundation
import Schema
import Storage
import Testing
import TestSupport

/// The model strategy in the running system: a model trained by hand is served without a restart
/// and trades on exchange-sim; recall (a real ChromaDB) is asked before each decision and a stall
/// costs one timeout; the scheduled retrain swaps in a new version while running; an expired model
/// stops entries with `model_expired`.
enum ModelTraining {
    static let python = Repository.root.appendingPathComponent(".venv/bin/python3")
    static var ready: Bool {
        Chroma.installed && Repository.hasData
            && FileManager.default.fileExists(atPath: Repository.root.appendingPathComponent(".venv/lib").path)
    }

    /// Model alerts (loads, refusals, retrains) in publish order.
    static func alerts(_ system: RunningSystem) throws -> [Envelope<Alert>] {
        try system.trace().messages(Alert.self).filter { $0.body.code.hasPrefix("model_") }
    }
}

extension SystemTests {
    @Test(
        "model strategy: trained by hand, served live, trades; recall stall costs one timeout; retrain swaps; expiry stops entries",
        .enabled(if: ModelTraining.ready, "needs .venv with xgboost and ChromaDB and ../shared/data: run `make test`"))
    func modelStrategyLifecycle() async throws {
        let chromaURL = "http://127.0.0.1:\(freePorts(1)[0])"
        // After steps 1–3 (72 s on a quiet machine; each step prints when it is done).
        let retrainSeconds = 108.0
        try await withSystem([
            // A neutral band of 0: every bar is labelled buy or sell, so the model takes a side.
            "signal": ["strategies": "model", "tradeNotional": "100", "minConfidence": 0.3],
            "model": [
                "minProbability": 0.34, "neutralBandBps": 0, "horizonBars": 5, "minBars": 60,
                "retrainHours": retrainSeconds / 3600, "keep": 3,
            ],
            "recall": [
                "deadlineMs": Chroma.deadlineMs,
                "chroma": ["url": chromaURL, "managed": true, "command": Chroma.command],
                "breaker": ["waitOpenMs": 3_000, "waitOpenMaxMs": 6_000, "slowCallMs": 150],
            ],
            "risk": looseRisk,
        ]) { system in
            let began = ContinuousClock.now
            func mark(_ step: String) { print("model lifecycle: \(step) after \(ContinuousClock.now - began)") }
            try await system.waitHealthy()

            // 1. A model trained by hand on the real candles is picked up while running.
            let (status, output) = try await system.command([
                "model", "train", "--symbol", "BTC", "--candles", Repository.candles.path,
            ])
            try #require(status == 0, "model train: \(output)")
            let handVersion = try #require(
                output.split(separator: "\n").first?.split(separator: " ").dropFirst(3).first.map(String.init))
            try await system.waitUntil("the hand-trained model served", timeout: .seconds(30)) {
                try ModelTraining.alerts(system).contains {
                    $0.body.code == "model_loaded" && $0.body.message.contains(handVersion)
                }
            }

            mark("the hand-trained model served")
            // 2. It trades: model entries approved by the risk gate and filled on exchange-sim.
            try await system.waitUntil("a model entry filled", timeout: .seconds(120)) {
                let trace = try system.trace()
                let modelIntents = Set(try trace.messages(OrderIntent.self).filter { $0.body.strategy == "model" }.map(\.header.traceId))
                return try trace.messages(Fill.self).contains { modelIntents.contains($0.header.traceId) }
            }
            let signals = try system.trace().messages(Signal.self).map(\.body).filter { $0.strategy == "model" }
            let approved = signals.filter { $0.decision == .approved }
            #expect(!approved.isEmpty)
            #expect(approved.allSatisfy { $0.reasons.first?.detail.contains("model \(handVersion)") == true })
            #expect(approved.allSatisfy { $0.indicators["p_buy"] != nil })

            // 3. Recall stalled: at most one timeout before its breaker opens; decisions go on.
            try await system.waitUntil("recall answered by ChromaDB", timeout: .seconds(60)) {
                try system.trace().messages(Signal.self).filter { $0.body.recall?.source == .chroma }.count >= 5
            }
            // Once recall's set-up features are warm (61 bars), every view with a side is asked about before its decision.
            let views = try system.trace().messages(Signal.self).map(\.body).filter { $0.strategy == "model" }
            let firstAsked = try #require(views.first { $0.recall != nil }?.barTime)
            let unasked = views.filter { $0.barTime > firstAsked && $0.direction != .flat && $0.recall == nil }
            #expect(unasked.isEmpty, "\(unasked.count) model views decided without recall")
            let chroma = try #require(await system.entry("chromadb"))
            let chromaPid = Int32(try #require(chroma["pid"] as? Int))
            suspendProcess(chromaPid)
            let stalledAt = wallNanos()
            try await system.waitUntil("the recall breaker open and signals going on", timeout: .seconds(30)) {
                let trace = try system.trace()
                guard let opened = try trace.messages(BreakerTransition.self).first(where: {
                    $0.header.publishTime > stalledAt && $0.body.to == .open
                }) else { return false }
                return try trace.messages(Signal.self).filter { $0.header.publishTime > opened.header.publishTime }.count >= 3
            }
            kill(chromaPid, SIGCONT)
            let trace = try system.trace()
            let opened = try #require(
                try trace.messages(BreakerTransition.self).first { $0.header.publishTime > stalledAt && $0.body.to == .open })
            let timeouts = try trace.messages(Signal.self).filter {
                $0.header.publishTime > stalledAt && $0.header.publishTime <= opened.header.publishTime
                    && $0.body.recall?.fallbackReason == "timeout"
            }
            #expect(timeouts.count <= 1, "\(timeouts.count) timeouts before the breaker opened")
            mark("the recall stall")

            // 4. The scheduled retrain (on the bars the system recorded) swaps the model while running.
            try await system.waitUntil("a retrain served", timeout: .seconds(retrainSeconds + 90)) {
                let alerts = try ModelTraining.alerts(system)
                guard let retrained = alerts.first(where: { $0.body.code == "model_retrained" }) else { return false }
                return alerts.contains {
                    $0.header.publishTime >= retrained.header.publishTime && $0.body.code == "model_loaded"
                }
            }
            mark("the retrain served")
            let metrics = try await system.adminGet("signal-generator", "/metrics")
            #expect(metrics.contains(#"breakwater_model_retrains_total{outcome="trained",symbol="BTC"}"#)
                || metrics.contains(#"breakwater_model_retrains_total{symbol="BTC",outcome="trained"}"#), "\(metrics.split(separator: "\n").filter { $0.contains("retrain") })")
            #expect(metrics.contains(#"breakwater_model_class_share{"#))
            #expect(metrics.contains(#"breakwater_model_age_seconds{symbol="BTC"}"#))
            let versions = try FileManager.default.contentsOfDirectory(
                atPath: system.varDirectory.appendingPathComponent("models/BTC").path
            ).filter { !$0.hasPrefix(".") }.sorted()
            let retrainedVersion = try #require(versions.last)
            #expect(retrainedVersion != handVersion)
            try await system.waitUntil("signals from the retrained model", timeout: .seconds(30)) {
                try system.trace().messages(Signal.self).contains {
                    $0.body.strategy == "model" && $0.body.reasons.first?.detail.contains("model \(retrainedVersion)") == true
                }
            }

            // 5. A broken newer version is refused with its reason; the retrained model stays served.
            let folder = system.varDirectory.appendingPathComponent("models/BTC")
            let brokenVersion = retrainedVersion + "b"
            try FileManager.default.copyItem(
                at: folder.appendingPathComponent(retrainedVersion), to: folder.appendingPathComponent(brokenVersion))
            try Data("{\"learner\": 1}".utf8).write(to: folder.appendingPathComponent("\(brokenVersion)/model.json"))
            try await system.waitUntil("the broken version refused", timeout: .seconds(30)) {
                try ModelTraining.alerts(system).contains {
                    $0.body.code == "model_refused" && $0.body.message.contains(brokenVersion)
                        && $0.body.message.contains("still serving \(retrainedVersion)")
                }
            }

            // 6. A model past model.maxAgeHours (72 h) deployed: no entries, `model_expired`.
            let expiredVersion = retrainedVersion + "x"  // sorts after the broken one
            try FileManager.default.copyItem(
                at: folder.appendingPathComponent(retrainedVersion), to: folder.appendingPathComponent(expiredVersion))
            let metadataURL = folder.appendingPathComponent("\(expiredVersion)/metadata.json")
            var metadata = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: metadataURL)) as? [String: Any])
            metadata["trainedAt"] = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-100 * 3600))
            try JSONSerialization.data(withJSONObject: metadata).write(to: metadataURL)
            try await system.waitUntil("the expired model served", timeout: .seconds(30)) {
                try ModelTraining.alerts(system).contains {
                    $0.body.code == "model_loaded" && $0.body.message.contains(expiredVersion)
                }
            }
            let servedAt = try #require(
                try ModelTraining.alerts(system).last { $0.body.message.contains(expiredVersion) }?.header.publishTime)
            try await system.waitUntil("model_expired signals", timeout: .seconds(30)) {
                try system.trace().messages(Signal.self).filter {
                    $0.header.publishTime > servedAt && $0.body.reasons.first?.code == .modelExpired
                }.count >= 3
            }
            let after = try system.trace().messages(Signal.self).filter {
                $0.header.publishTime > servedAt && $0.body.strategy == "model"
            }
            #expect(after.allSatisfy { $0.body.decision == .rejected && $0.body.reasons.first?.code == .modelExpired })
            let entriesAfter = try system.trace().messages(OrderIntent.self).filter {
                $0.header.publishTime > servedAt && $0.body.strategy == "model"
            }
            #expect(entriesAfter.isEmpty, "\(entriesAfter.count) model entries after the model expired")
            let generatorStatus = try await system.adminGet("signal-generator", "/status")
            #expect(generatorStatus.contains(#""expired":true"#))
        }
    }
}
