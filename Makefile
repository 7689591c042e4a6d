# The README's Quick start: `make run` and `make test`.
SWIFT ?= swift
CONFIG ?=
CONFIG_FLAG := $(if $(CONFIG),--config $(CONFIG),)
# Inputs per fuzz target: `make fuzz` runs the full count, `make test` and `make fuzz-short` a short
# run of each (20,000 inputs or 15 s, from a debug build with the sanitizers).
FUZZ_RUNS ?= 10000000
FUZZ_TEST_RUNS ?= 20000
FUZZ_TEST_SECONDS ?= 15

.PHONY: run test faults fuzz fuzz-short build release bench bench-backtest bench-pipeline bench-recorder bench-quotes bench-model bench-report clean

run:
	@.ci/deps.sh run
	$(SWIFT) build -c release
	.build/release/breakwater up $(CONFIG_FLAG)

# The build, the tests (those that only compute in parallel, then those that start processes,
# servers or sockets one at a time) and a short sanitizer run of every fuzz target: .ci/test.sh.
test:
	@.ci/deps.sh test
	FUZZ_TEST_RUNS=$(FUZZ_TEST_RUNS) FUZZ_TEST_SECONDS=$(FUZZ_TEST_SECONDS) SWIFT=$(SWIFT) .ci/test.sh

# The short sanitizer run of every fuzz target that `make test` ends with, on its own.
fuzz-short:
	FUZZ_RUNS=$(FUZZ_TEST_RUNS) FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) FUZZ_CONFIGURATION=debug SWIFT=$(SWIFT) .ci/fuzz.sh

# Every libFuzzer target (Tests/Fuzz) for FUZZ_RUNS inputs each, one at a time; a crash, hang or
# sanitizer report fails the run and leaves its input in .build-fuzz/findings/.
fuzz:
	FUZZ_RUNS=$(FUZZ_RUNS) SWIFT=$(SWIFT) .ci/fuzz.sh

# The whole fault matrix: every service SIGKILLed and SIGSTOPped (10 s) in turn while trading, the
# invariants checked after each (`make test` runs one fault per service). About 10 minutes.
faults:
	@.ci/deps.sh test
	$(SWIFT) build --build-tests
	FAULT_MATRIX=full $(SWIFT) test --skip-build --no-parallel --filter FaultMatrixTests

build:
	@.ci/deps.sh run
	$(SWIFT) build

bench:
	@.ci/deps.sh bench
	$(SWIFT) build -c release --product bus-bench
	.build/release/bus-bench
	$(MAKE) bench-backtest
	$(SWIFT) build -c release --product recorder-bench
	.build/release/recorder-bench
	$(MAKE) bench-pipeline

# The candle backtest (the services' rules, `breakwater backtest`'s path) and L2 replay of the Binance capture
# (book maintenance; a market maker filled through a queue model), loaded once into fixed-point events, against
# hftbacktest on the same capture in the same run (.venv-bench); and the capture played through the venue with
# the product's market maker (`breakwater backtest --market binance-l2`'s path).
bench-backtest:
	@.ci/deps.sh bench
	$(SWIFT) build -c release --product backtest-bench
	.build/release/backtest-bench $(BENCH_ARGS)

# The live order path: `breakwater up` (paper, the feed replaying candles) and busspy as child processes,
# bar → signal → intent → risk decision → order command timed on the bus, with the transport's share of the
# two hops and a bare bus hop in the same run.
bench-pipeline:
	$(SWIFT) build -c release
	.build/release/pipeline-bench $(BENCH_ARGS)

# The market maker's path for one book update (strategy, risk gate, executor, signing), in process.
bench-quotes:
	$(SWIFT) build -c release --product quote-bench
	.build/release/quote-bench $(BENCH_ARGS)

# One-row XGBoost predictions (a synthetic 200-tree depth-6 3-class forest, or BENCH_ARGS="--model DIR"),
# against a straightforward evaluator in the same run.
bench-model:
	$(SWIFT) build -c release --product model-bench
	.build/release/model-bench $(BENCH_ARGS)

# The operator's report over a generated trace of a million cycles, against decoding every message.
bench-report:
	$(SWIFT) build -c release --product report-bench
	.build/release/report-bench $(BENCH_ARGS)

# The trace recorder's write path over a million bus-like envelopes, then end to end over ZeroMQ with a
# check that nothing was lost; against a plain per-row INSERT of the JSON into an unindexed table.
bench-recorder:
	$(SWIFT) build -c release --product recorder-bench
	.build/release/recorder-bench $(BENCH_ARGS)

clean:
	rm -rf .build var
