# Thin wrapper over CMake: `make run` and `make test` install what is missing, configure, build,
# then run. CMake stays the build; everything here can be done by hand with cmake and ctest.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTUNEDHTTP_WERROR=ON

.PHONY: run test build setup configure clean

run: build
	./$(BUILD_DIR)/harness/tunedhttp run scenarios

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

configure: setup
	@test -f $(BUILD_DIR)/CMakeCache.txt || cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

setup:
	@./scripts/setup.sh

clean:
	rm -rf $(BUILD_DIR)

# Benchmarks (bench/, issue 8): builds the suite, runs it with three repetitions into
# $(BUILD_DIR)/bench/results.json, then renders docs/bench/ (plots and results.md) from it.
BENCH_FLAGS ?= --benchmark_repetitions=3
PYTHON ?= /usr/bin/python3
.PHONY: bench
bench: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tunedhttp_bench
	./$(BUILD_DIR)/bench/bench $(BENCH_FLAGS) --benchmark_out_format=json \
	  --benchmark_out=$(BUILD_DIR)/bench/results.json
	$(PYTHON) scripts/plot_bench.py $(BUILD_DIR)/bench/results.json docs/bench
