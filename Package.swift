// swift-tools-version: 6.1
import PackageDescription

let log = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let httpClient = Target.Dependency.product(name: "AsyncHTTPClient", package: "async-http-client")
let grdb = Target.Dependency.product(name: "GRDB", package: "GRDB.swift")

/// A service executable: a thin shell over the shared libraries.
func service(_ name: String, product: String, _ deps: [Target.Dependency]) -> Target {
    .executableTarget(
        name: name, dependencies: ["ServiceKit", "Bus", "Schema", log, metrics, lifecycle] + deps, path: "Services/\(name)")
}

/// A libFuzzer target under Tests/Fuzz/<name>, its seed corpus beside it. `make fuzz` builds it with
/// `-sanitize=fuzzer,address -DFUZZING`; an ordinary build makes a program that replays the corpus.
func fuzzTarget(_ name: String, _ deps: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + deps, path: "Tests/Fuzz/\(name)", exclude: ["corpus"])
}

let package = Package(
    name: "Breakwater",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "feed-handler", targets: ["FeedHandler"]),
        .executable(name: "signal-generator", targets: ["SignalGenerator"]),
        .executable(name: "risk-gate", targets: ["RiskGate"]),
        .executable(name: "executor", targets: ["Executor"]),
        .executable(name: "trace-recorder", targets: ["TraceRecorder"]),
        .executable(name: "busspy", targets: ["BusSpy"]),
        .executable(name: "backtest-bench", targets: ["BacktestBench"]),
        .executable(name: "breakwater", targets: ["Breakwater"]),
        .executable(name: "bus-bench", targets: ["BusBench"]),
        .executable(name: "exchange-sim", targets: ["ExchangeSim"]),
        .executable(name: "recall-bench", targets: ["RecallBench"]),
        .executable(name: "quote-bench", targets: ["QuoteBench"]),
        .executable(name: "model-bench", targets: ["ModelBench"]),
        .executable(name: "report-bench", targets: ["ReportBench"]),
        .executable(name: "recorder-bench", targets: ["RecorderBench"]),
        .executable(name: "pipeline-bench", targets: ["PipelineBench"]),
        .executable(name: "fuzz-envelope", targets: ["FuzzEnvelope"]),
        .executable(name: "fuzz-message-body", targets: ["FuzzMessageBody"]),
        .executable(name: "fuzz-hyperliquid-rest", targets: ["FuzzHyperliquidREST"]),
        .executable(name: "fuzz-hyperliquid-stream", targets: ["FuzzHyperliquidStream"]),
        .executable(name: "fuzz-market-files", targets: ["FuzzMarketFiles"]),
        .executable(name: "fuzz-config", targets: ["FuzzConfig"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
    ],
    targets: [
        // C shims
        .systemLibrary(
            name: "CZeroMQ", path: "Shared/CZeroMQ", pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]),

        .systemLibrary(
            name: "CSecp256k1", path: "Shared/CSecp256k1", pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"])]),

        // Pure cores
        .target(name: "Schema", path: "Shared/Schema"),
        .target(name: "Market", dependencies: ["Schema"], path: "Shared/Market"),
        .target(name: "Strategy", dependencies: ["Schema", "Market", "Model"], path: "Shared/Strategy"),
        .target(name: "Risk", dependencies: ["Schema", "Market", "Ledger"], path: "Shared/Risk"),
        .target(name: "Ledger", dependencies: ["Schema"], path: "Shared/Ledger"),
        .target(name: "Resilience", dependencies: ["Schema", metrics], path: "Shared/Resilience"),
        .target(name: "Model", dependencies: ["Schema", "Market"], path: "Shared/Model"),
        // The venue exchange-sim serves: books, price-time matching, triggers, positions, margin, fees, funding.
        .target(name: "Venue", dependencies: ["Schema", "Market", "Hyperliquid"], path: "Shared/Venue"),
        // Binance L2 captures as fixed-point events, a dense integer book and a queue-position market maker.
        .target(name: "L2Replay", dependencies: ["Schema", "Market"], path: "Shared/L2Replay"),
        // The services' pipeline in one process on simulated time, against the venue.
        .target(
            name: "Backtest",
            dependencies: ["Schema", "Market", "Strategy", "Risk", "Ledger", "Execution", "Hyperliquid", "Venue", "L2Replay"],
            path: "Shared/Backtest"),
        // What the benchmarks share: percentiles and the monotonic clock.
        .target(
            name: "BenchKit", dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")],
            path: "Shared/BenchKit"),

        // Edges: sockets, files, HTTP
        .target(
            name: "Hyperliquid",
            dependencies: [
                "CSecp256k1", "Schema", "Resilience", "Market", httpClient, log, metrics,
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            path: "Shared/Hyperliquid"),
        .target(
            name: "Recall",
            dependencies: [
                "Schema", "Resilience", "Market", "Ledger", httpClient, log, metrics,
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Shared/Recall"),
        .target(name: "Execution", dependencies: ["Schema", "Hyperliquid"], path: "Shared/Execution"),
        .target(name: "Bus", dependencies: ["CZeroMQ", "Schema", log, metrics], path: "Shared/Bus"),
        .target(
            name: "Storage",
            dependencies: ["Schema", "Ledger", grdb, .product(name: "GRDBSQLite", package: "GRDB.swift")], path: "Shared/Storage"),
        .target(
            name: "ServiceKit",
            dependencies: [
                "Bus", "Schema", "Risk", "Strategy", "Model", "Market", "Execution", log, metrics,
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                argumentParser,
            ],
            path: "Shared/ServiceKit"),

        // Services
        service("FeedHandler", product: "feed-handler", ["Market", "Hyperliquid", "Resilience"]),
        service(
            "SignalGenerator", product: "signal-generator", ["Market", "Model", "Strategy", "Recall", "Resilience", "Hyperliquid", httpClient]),
        service("RiskGate", product: "risk-gate", ["Risk", "Market", "Hyperliquid", "Storage"]),
        service("Executor", product: "executor", ["Ledger", "Storage", "Execution", "Hyperliquid", "Resilience", "Risk"]),
        service("TraceRecorder", product: "trace-recorder", ["Storage", "Ledger"]),
        .executableTarget(
            name: "BusSpy", dependencies: ["Bus", "Schema", "ServiceKit", argumentParser, log, metrics], path: "Services/BusSpy"),
        .executableTarget(
            name: "Breakwater",
            dependencies: [
                "ServiceKit", "Bus", "Schema", "Storage", "Ledger", "Hyperliquid", "Market", "Model", "Backtest", "Venue", "Risk",
                "Strategy", "Execution", argumentParser, log, metrics,
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Services/Breakwater"),
        .executableTarget(
            name: "BusBench",
            dependencies: [
                "Bus", "Schema", "CZeroMQ", "BenchKit", argumentParser, log, metrics,
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Services/BusBench"),

        .executableTarget(
            name: "BacktestBench",
            dependencies: [
                "L2Replay", "Backtest", "Market", "Schema", "Risk", "Strategy", "Execution", "Venue", "BenchKit", "ServiceKit",
                argumentParser,
            ],
            path: "Services/BacktestBench", exclude: ["hftbacktest_bench.py"]),
        .executableTarget(
            name: "QuoteBench",
            dependencies: [
                "Strategy", "Risk", "Execution", "Hyperliquid", "Market", "Schema", "BenchKit", argumentParser,
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Services/QuoteBench"),
        .executableTarget(
            name: "ModelBench",
            dependencies: ["Model", "Schema", "BenchKit", argumentParser, .product(name: "Histogram", package: "hdrhistogram-swift")],
            path: "Services/ModelBench"),
        .executableTarget(
            name: "PipelineBench",
            dependencies: [
                "Bus", "Schema", "ServiceKit", "BenchKit", "TestSupport", argumentParser, log, metrics,
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Services/PipelineBench"),
        .executableTarget(
            name: "ReportBench", dependencies: ["Storage", "Ledger", "Schema", "BenchKit", argumentParser],
            path: "Services/ReportBench"),
        .executableTarget(
            name: "RecorderBench",
            dependencies: ["Storage", "Bus", "Schema", "BenchKit", grdb, argumentParser, log, metrics],
            path: "Services/RecorderBench"),
        .executableTarget(
            name: "RecallBench",
            dependencies: [
                "Recall", "Resilience", "Strategy", "Market", "Schema", "ServiceKit", httpClient, argumentParser, log,
                metrics, .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Services/RecallBench"),
        .executableTarget(
            name: "ExchangeSim",
            dependencies: [
                "Venue", "Schema", "Market", "Resilience", "Hyperliquid", "ServiceKit", "Storage", argumentParser, log,
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ],
            path: "Services/ExchangeSim"),

        // Tests: what every test target shares (repository paths, free ports, temporary directories).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // A venue with funded paper accounts and a hand-set market, for VenueTests and ExchangeSimTests.
        .target(name: "VenueTestSupport", dependencies: ["Venue", "Hyperliquid", "Schema"], path: "Tests/VenueTestSupport"),
        // Fuzz targets (Tests/Fuzz, `make fuzz`).
        .systemLibrary(name: "CLibFuzzer", path: "Tests/Fuzz/CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Tests/Fuzz/Support"),
        fuzzTarget("FuzzEnvelope", ["Schema"]),
        fuzzTarget("FuzzMessageBody", ["Schema"]),
        fuzzTarget("FuzzHyperliquidREST", ["Hyperliquid", "Schema"]),
        fuzzTarget("FuzzHyperliquidStream", ["Hyperliquid", "Market", "Schema"]),
        fuzzTarget("FuzzMarketFiles", ["Market", "Schema"]),
        fuzzTarget("FuzzConfig", ["ServiceKit", "Risk", "Schema"]),
        .testTarget(
            name: "SchemaTests", dependencies: ["TestSupport", "Schema"], path: "Tests/SchemaTests", exclude: ["validate_proto.py"]),
        .testTarget(name: "BusTests", dependencies: ["TestSupport", "Bus", "Schema", metrics], path: "Tests/BusTests"),
        .testTarget(name: "ServiceKitTests", dependencies: ["TestSupport", "ServiceKit", "Bus", "Schema", "Risk"], path: "Tests/ServiceKitTests"),
        .testTarget(
            name: "MarketTests", dependencies: ["TestSupport", "Market", "Schema"], path: "Tests/MarketTests", exclude: ["reference"]),
        .testTarget(name: "L2ReplayTests", dependencies: ["TestSupport", "L2Replay", "Market", "Schema"], path: "Tests/L2ReplayTests"),
        .testTarget(
            name: "BacktestTests",
            dependencies: ["TestSupport", "Backtest", "Schema", "Market", "Strategy", "Risk", "Ledger", "Execution", "Venue"],
            path: "Tests/BacktestTests"),
        .testTarget(name: "StrategyTests", dependencies: ["Strategy", "Market", "Model", "Schema"], path: "Tests/StrategyTests"),
        .testTarget(
            name: "RiskTests", dependencies: ["TestSupport", "Risk", "Schema", "Ledger", "Market"], path: "Tests/RiskTests",
            exclude: ["reference"]),
        .testTarget(name: "ResilienceTests", dependencies: ["Resilience", "Schema", metrics], path: "Tests/ResilienceTests"),
        .testTarget(
            name: "RecallTests",
            dependencies: [
                "TestSupport", "Recall", "Resilience", "Schema", httpClient, log, metrics,
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/RecallTests"),
        .testTarget(name: "ModelTests", dependencies: ["TestSupport", "Model", "Market", "Schema", "Strategy"], path: "Tests/ModelTests", exclude: ["parity_models.py"]),
        .testTarget(name: "LedgerTests", dependencies: ["TestSupport", "Ledger", "Schema"], path: "Tests/LedgerTests"),
        .testTarget(
            name: "HyperliquidTests",
            dependencies: [
                "TestSupport", "Hyperliquid", "Schema", "Resilience", "Market", httpClient, .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/HyperliquidTests"),
        .testTarget(
            name: "ExchangeSimTests",
            dependencies: [
                "TestSupport", "VenueTestSupport", "ExchangeSim", "Venue", "Schema", "Hyperliquid", "Resilience", "Storage", grdb,
            ],
            path: "Tests/ExchangeSimTests", exclude: ["sdk"]),
        .testTarget(
            name: "VenueTests", dependencies: ["TestSupport", "VenueTestSupport", "Venue", "Schema", "Market", "Hyperliquid"],
            path: "Tests/VenueTests"),
        .testTarget(
            name: "ExecutionTests", dependencies: ["Execution", "Hyperliquid", "Schema"], path: "Tests/ExecutionTests"),
        .testTarget(name: "StorageTests", dependencies: ["TestSupport", "Storage", "Schema", "Ledger"], path: "Tests/StorageTests"),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "TestSupport", "Schema", "Storage", "Market", "Strategy", "Ledger", "Bus", "Hyperliquid", "Execution", "ServiceKit", "Backtest",
                "Venue", "Risk",
                grdb, log, metrics,
            ],
            path: "Tests/IntegrationTests",
            exclude: ["compose_engine.sh", "page_pixels.py", "rogue_publisher.py", "delay_proxy.py"]),
    ]
)
