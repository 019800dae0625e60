# Thin wrapper over CMake: `make run` and `make test` install what is missing, configure, build,
# then run. CMake stays the build; everything here can be done by hand with cmake and ctest.
BUILD_DIR ?= build
JOBS ?= 2
# Three builds run in `make test` on two cores, so each is made cheap to compile:
# - a unity build: a client or mock-server source is mostly Asio and Beast templates, which every
#   separate file would instantiate and optimise again (UNITY=OFF builds file by file);
# - line tables only (-g1): enough for perf, callgrind and sanitizer stack traces, at a third
#   less compile time than full debug information;
# - sanitizer builds at -O1, which halves their compile time; their timing tolerances are scaled.
UNITY ?= ON
CMAKE_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTUNEDHTTP_WERROR=ON \
  -DCMAKE_UNITY_BUILD=$(UNITY) "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
SANITIZER_CMAKE_FLAGS := $(CMAKE_FLAGS) "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"

.PHONY: run test build setup configure clean sanitizers asan tsan

run: build
	./$(BUILD_DIR)/harness/tunedhttp run scenarios

# The whole suite: every test in the normal build, then the sanitizer builds (below).
test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory sanitizers

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

configure: setup
	@test -f $(BUILD_DIR)/CMakeCache.txt || cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

setup:
	@./scripts/setup.sh

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan

# Sanitizer builds (separate folders) of the libraries, the program and their tests: everything
# but the interop, packaging and docs checks (which test other programs and files, not our
# memory or threads) runs again under ASan+UBSan and under TSan; any report fails the run.
# Timing tolerances are scaled (TUNEDHTTP_TIMING_SCALE) because instrumented code is slower.
SANITIZER_MODULES := asio_beast;units;client;mockserver;harness;tests
SANITIZER_LABELS := units|client|mockserver|harness|scenario|conformance|program|reliability|soak

sanitizers: asan tsan

asan: setup
	@test -f build-asan/CMakeCache.txt || cmake -S . -B build-asan $(SANITIZER_CMAKE_FLAGS) \
	  -DTUNEDHTTP_SANITIZE=address "-DTUNEDHTTP_MODULES=$(SANITIZER_MODULES)"
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  TUNEDHTTP_TIMING_SCALE=2 ctest --test-dir build-asan --output-on-failure -j $(JOBS) \
	  -L "$(SANITIZER_LABELS)"

# GCC 12's TSan runtime aborts ("unexpected memory mapping") on kernels that randomize mmap with
# more bits than it expects; without ASLR it always works, so tests run under `setarch -R` where
# the machine allows it (some container sandboxes refuse personality changes).
TSAN_LAUNCHER := $(shell setarch $$(uname -m) -R true >/dev/null 2>&1 && echo setarch $$(uname -m) -R)

tsan: setup
	@test -f build-tsan/CMakeCache.txt || cmake -S . -B build-tsan $(SANITIZER_CMAKE_FLAGS) \
	  -DTUNEDHTTP_SANITIZE=thread "-DTUNEDHTTP_MODULES=$(SANITIZER_MODULES)"
	cmake --build build-tsan -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 TUNEDHTTP_TIMING_SCALE=3 \
	  $(TSAN_LAUNCHER) ctest --test-dir build-tsan --output-on-failure -j $(JOBS) -L "$(SANITIZER_LABELS)"

# Benchmarks (bench/): builds the suite and runs it with five repetitions in two passes,
# then renders docs/bench/ (plots and results.md) from both. One request at a time, the TLS dial
# and memory run pinned to one CPU: on a small VM an idle core takes tens of microseconds to
# wake, which would swamp the 15-100 µs a request costs and hide the clients' own cost.
# One worker against Go's client runs in that pass too (`vs_go_pinned/`; the Go peer inherits
# the mask). Concurrency, timer lateness (with "the other core" idle or busy) and the runs against
# Go with more workers (its client and server use every core) need both CPUs.
# Repetitions run in random order (Google Benchmark's interleaving), so that a ratio of two
# clients is measured side by side: run one after the other, a drift of the machine's speed
# between them (seen here: ±8% between runs minutes apart) would land on one client only.
BENCH_FLAGS ?= --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
BENCH_ONE_CPU := ^(requests|tls_handshake|memory|vs_go_pinned)/
BENCH_ALL_CPUS := ^(concurrency|timer|vs_go|servers)/
PYTHON ?= /usr/bin/python3
.PHONY: bench
bench: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tunedhttp_bench
	taskset -c 0 ./$(BUILD_DIR)/bench/bench $(BENCH_FLAGS) '--benchmark_filter=$(BENCH_ONE_CPU)' \
	  --benchmark_out_format=json --benchmark_out=$(BUILD_DIR)/bench/results-one-cpu.json
	./$(BUILD_DIR)/bench/bench $(BENCH_FLAGS) '--benchmark_filter=$(BENCH_ALL_CPUS)' \
	  --benchmark_out_format=json --benchmark_out=$(BUILD_DIR)/bench/results-all-cpus.json
	@./scripts/setup.sh --only strace
	$(PYTHON) scripts/count_syscalls.py ./$(BUILD_DIR)/harness/tunedhttp $(BUILD_DIR)/bench/syscalls.json
	$(PYTHON) scripts/plot_bench.py $(BUILD_DIR)/bench/results-one-cpu.json \
	  $(BUILD_DIR)/bench/results-all-cpus.json $(BUILD_DIR)/bench/syscalls.json docs/bench

# Fuzzing with libFuzzer (clang; not part of `make test`). build-fuzz holds every library built
# with -fsanitize=fuzzer-no-link,address,undefined and one fuzzer per target (fuzz/README.md).
# Each runs for FUZZ_SECONDS on its committed seeds; new inputs and crashers stay in build-fuzz.
FUZZ_SECONDS ?= 60
FUZZERS := fuzz_scenario_loader fuzz_fault_spec fuzz_client_response fuzz_response_reader \
  fuzz_request_builder fuzz_request_args
FUZZ_CXX_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function \
  -fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: fuzz
fuzz: setup
	@./fuzz/setup.sh
	@test -f build-fuzz/CMakeCache.txt || CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF -DTUNEDHTTP_FUZZ=ON \
	  "-DTUNEDHTTP_MODULES=asio_beast;units;client;mockserver;harness;fuzz" \
	  "-DCMAKE_CXX_FLAGS=$(FUZZ_CXX_FLAGS)"
	cmake --build build-fuzz -j $(JOBS) --target $(FUZZERS)
	@for fuzzer in $(FUZZERS); do \
	  target=$${fuzzer#fuzz_}; mkdir -p build-fuzz/corpus/$$target build-fuzz/artifacts; \
	  echo "fuzz: $$fuzzer for $(FUZZ_SECONDS) s"; \
	  ./build-fuzz/fuzz/$$fuzzer -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/$$target- \
	    build-fuzz/corpus/$$target fuzz/corpus/$$target || exit 1; \
	done
