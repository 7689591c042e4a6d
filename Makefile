# The README's Quick start: `make run` and `make test`.
SWIFT ?= swift
CONFIG ?=
CONFIG_FLAG := $(if $(CONFIG),--config $(CONFIG),)

.PHONY: run test faults build release bench bench-quotes bench-model bench-report clean

run:
	@.ci/deps.sh run
	$(SWIFT) build -c release
	.build/release/breakwater up $(CONFIG_FLAG)

# Tests run one at a time: several start five services or a database server each, and
# on two cores they would starve one another's deadlines.
test:
	@.ci/deps.sh test
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel

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
	@.ci/deps.sh run
	$(SWIFT) build -c release --product bus-bench
	.build/release/bus-bench

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

clean:
	rm -rf .build var
