# The README's Quick start: `make run` and `make test`.
SWIFT ?= swift
CONFIG ?=
CONFIG_FLAG := $(if $(CONFIG),--config $(CONFIG),)
# Inputs per fuzz target: `make fuzz` runs the full count, `make test` a short run of each (20,000
# inputs or 15 s, from a debug build).
FUZZ_RUNS ?= 10000000
FUZZ_TEST_RUNS ?= 20000
FUZZ_TEST_SECONDS ?= 15

.PHONY: run test build release bench bench-quotes bench-model fuzz clean

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
	FUZZ_RUNS=$(FUZZ_TEST_RUNS) FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) FUZZ_CONFIGURATION=debug SWIFT=$(SWIFT) .ci/fuzz.sh

# Every libFuzzer target (Tests/Fuzz) for FUZZ_RUNS inputs each, one at a time; a crash, hang or
# sanitizer report fails the run and leaves its input in .build-fuzz/findings/.
fuzz:
	FUZZ_RUNS=$(FUZZ_RUNS) SWIFT=$(SWIFT) .ci/fuzz.sh

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

clean:
	rm -rf .build var
