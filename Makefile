# The README's Quick start: `make run` and `make test`.
SWIFT ?= swift
CONFIG ?=
CONFIG_FLAG := $(if $(CONFIG),--config $(CONFIG),)

.PHONY: run test build release bench clean

run:
	@.ci/deps.sh run
	$(SWIFT) build -c release
	.build/release/breakwater up $(CONFIG_FLAG)

test:
	@.ci/deps.sh test
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

build:
	@.ci/deps.sh run
	$(SWIFT) build

bench:
	@.ci/deps.sh run
	$(SWIFT) build -c release --product bus-bench
	.build/release/bus-bench

clean:
	rm -rf .build var
