# probkit — thin wrapper over CMake.  `make run` and `make test` work on a
# fresh Debian 12 machine: both first run scripts/bootstrap.sh (idempotent).
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN ?= build-asan
CMAKE_FLAGS ?=

.PHONY: all bootstrap build build-asan run test test-fast bench clean install examples

all: build

bootstrap:
	@bash scripts/bootstrap.sh

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DPK_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan:
	cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DPK_SANITIZE=ON -DPK_WERROR=ON -DPK_OPENMP=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build $(ASAN) -j $(JOBS)

# The main job: every registered reproduction at quick scale, report in report/.
run: bootstrap build
	./$(BUILD)/probkit reproduce --quick --out report

# CI: a normal build and a sanitizer build, each running the whole ctest suite.
test: bootstrap build build-asan examples
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) -LE slow

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# An installed-library consumer, built through pkg-config (CI keeps docs honest).
examples: build
	rm -rf $(BUILD)/stage
	cmake --install $(BUILD) --prefix $(CURDIR)/$(BUILD)/stage >/dev/null
	PKG_CONFIG_PATH=$(CURDIR)/$(BUILD)/stage/lib/pkgconfig $(MAKE) -s -C examples BUILD=$(CURDIR)/$(BUILD)/examples
	cd $(BUILD)/examples && for e in $(notdir $(wildcard examples/*.c)); do \
	  LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)/stage/lib ./$${e%.c} >/dev/null || exit 1; done

bench: bootstrap build
	bash scripts/bootstrap.sh --bench
	bash bench/run_all.sh

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN) report
