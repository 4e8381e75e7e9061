# SPDX-License-Identifier: MIT
# joules: the two set-up commands are `make run` and `make test`; everything else is here too.
#   make run      build, then the main job on the simulated GPU when no NVIDIA driver is found
#   make test     build and run every test, then the suite again under ASan+UBSan, and the
#                 threaded tests under TSan
#   make bench    benchmarks (figures and ratios), C and the Python binding
#   make gpu-check  on an NVIDIA machine: does joules work there? (docs/real-gpu.md)
#   make install  PREFIX=/usr/local by default
#   make format   apply .clang-format to every C file; make format-check only checks
#   make analyze  cppcheck and clang-tidy on src/ (scripts/analyze, .clang-tidy)
#   make fuzz     libFuzzer on every parser of outside input (clang), FUZZ_SECONDS in all

BUILD   ?= build
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
# ON turns compiler warnings into errors (CI does: `make test WERROR=ON`).
WERROR ?= OFF
JOULES  := $(BUILD)/bin/joules

# Tools a fresh Debian machine may lack; each line: command:debian-package
DEPS := cmake:cmake gcc:gcc python3:python3 rsvg-convert:librsvg2-bin
# Python modules of the documented Python route (`pip install ./python`, or a venv first):
# Debian's python3 comes without them. Each: module:debian-package.
PYREQ := pip:python3-pip ensurepip:python3-venv
# Shared libraries loaded at run time (checked with ldconfig -p); each: soname:debian-package.
# libblas.so.3 (libblas3, with the CBLAS interface) is the CPU BLAS of `joules ab --executor cpu`.
LIBDEPS := libblas.so.3:libblas3
# Optional: without them the build still works. `joules serve` needs libmicrohttpd (a
# pkg-config module: module:debian-package); its test needs a real Prometheus and promtool
# (command:package) and the OpenMetrics parser of the Python client (module:package, for
# Debian's python3), and is counted as skipped without them.
# `joules merge` reads JSON with Jansson (libjansson-dev); without it merge says how to get it.
PCDEPS := libmicrohttpd:libmicrohttpd-dev jansson:libjansson-dev
# The cluster tests start real engines: Open MPI (mpirun) and a single-host Slurm (munged,
# slurmctld, slurmd, srun); libopenmpi-dev and libslurm-dev give mpi.h and slurm/spank.h.
OPTDEPS := prometheus:prometheus promtool:prometheus mpirun:openmpi-bin mpicc:libopenmpi-dev \
  munged:munge slurmctld:slurmctld slurmd:slurmd srun:slurm-client
HDRDEPS := slurm/spank.h:libslurm-dev
PYDEPS := prometheus_client:python3-prometheus-client mpi4py:python3-mpi4py
# The Python binding's window edges in C (python/joules/_fast.c) need the headers of the
# python3 on PATH; without them the binding keeps its ctypes edges.
PYHDR := python3-dev

.PHONY: all build run test test-plain test-asan test-tsan bench install deps format format-check clean

all: build

deps:
	@missing=""; for d in $(DEPS); do cmd=$${d%%:*}; pkg=$${d##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	for d in $(LIBDEPS); do lib=$${d%%:*}; pkg=$${d##*:}; \
	  ldconfig -p 2>/dev/null | grep -q "$$lib " || missing="$$missing $$pkg"; done; \
	for d in $(PYREQ); do mod=$${d%%:*}; pkg=$${d##*:}; \
	  python3 -c "import $$mod" >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	optional=""; for d in $(PCDEPS); do mod=$${d%%:*}; pkg=$${d##*:}; \
	  pkg-config --exists $$mod 2>/dev/null || optional="$$optional $$pkg"; done; \
	command -v pkg-config >/dev/null 2>&1 || optional="$$optional pkg-config"; \
	for d in $(OPTDEPS); do cmd=$${d%%:*}; pkg=$${d##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || case "$$optional" in *" $$pkg"*) ;; *) optional="$$optional $$pkg";; esac; done; \
	for d in $(HDRDEPS); do hdr=$${d%%:*}; pkg=$${d##*:}; \
	  [ -e /usr/include/$$hdr ] || optional="$$optional $$pkg"; done; \
	for d in $(PYDEPS); do mod=$${d%%:*}; pkg=$${d##*:}; \
	  /usr/bin/python3 -c "import $$mod" >/dev/null 2>&1 || optional="$$optional $$pkg"; done; \
	python3 -c "import os, sysconfig; os.stat(os.path.join(sysconfig.get_paths()['include'], 'Python.h'))" \
	  >/dev/null 2>&1 || optional="$$optional $(PYHDR)"; \
	if [ -n "$$missing$$optional" ] && [ "$$(id -u)" = 0 ]; then \
	  echo "joules: installing$$missing$$optional"; \
	  (apt-get install -y -q --no-install-recommends $$missing $$optional >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing $$optional >/dev/null 2>&1)) || \
	  if [ -n "$$missing" ]; then \
	    echo "joules: could not install$$missing; run: apt-get update && apt-get install -y$$missing" >&2; exit 1; \
	  else \
	    echo "joules: could not install$$optional (optional: joules serve and merge, their tests, the cluster tests, the Python binding's C edges)" >&2; \
	  fi; \
	elif [ -n "$$missing" ]; then \
	  echo "joules: missing$$missing. Run: sudo apt-get update && sudo apt-get install -y$$missing$$optional" >&2; exit 1; \
	elif [ -n "$$optional" ]; then \
	  echo "joules: optional, not installed:$$optional (joules serve and merge, their tests, the cluster tests, the Python binding's C edges). Run: sudo apt-get install -y$$optional" >&2; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DJOULES_WERROR=$(WERROR) $(CMAKE_FLAGS) >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The main job: the talk's question on the simulated GPU (a real GPU is used when present).
run: build
	@echo "== joules info (simulated RTX A6000 unless a real NVIDIA driver is found) =="
	@$(JOULES) info --sim-if-absent a6000
	@echo
	@echo "== joules ab: the talk's experiment, C = A.B (n = 10000, fp32) on N(0,1) vs zeros, =="
	@echo "== clocks locked at 1000 MHz, on the simulated RTX A6000 (setters allowed explicitly) =="
	@JOULES_SIM_PRIVILEGED=1 $(JOULES) ab --sim a6000 --lock-clocks 1000 \
	  --svg $(BUILD)/ab.svg --json $(BUILD)/ab.json
	@echo "Figure: $(BUILD)/ab.svg  JSON: $(BUILD)/ab.json  (procedure: docs/ab.md)"
	@echo
	@echo "joules is $(JOULES). To type 'joules ...' as the README does, put it on your PATH:"
	@echo '  export PATH="$(abspath $(BUILD))/bin:$$PATH"    (or: sudo make install, into $(PREFIX)/bin)'

test: build test-plain test-asan test-tsan

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	$(MAKE) --no-print-directory BUILD=build-asan CMAKE_FLAGS="-DJOULES_SANITIZE=address,undefined" build
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

test-tsan: deps
	$(MAKE) --no-print-directory BUILD=build-tsan CMAKE_FLAGS="-DJOULES_SANITIZE=thread" build
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -L threads

# On a machine with an NVIDIA driver: validate joules there, read-only (docs/real-gpu.md).
# Static analysis of src/ with the compile database (cppcheck, clang-tidy: .clang-tidy says
# which checks and why). Needs cppcheck and clang-tidy.
.PHONY: analyze
analyze: deps $(BUILD)/CMakeCache.txt
	scripts/analyze $(BUILD)

# libFuzzer on each parser of outside input (tests/fuzz, docs/fuzzing.md); needs clang. The
# seconds are shared among the targets. Their corpora are replayed by every `make test`.
FUZZ_SECONDS ?= 180
FUZZ_TARGETS := fuzz_scenario fuzz_scenario_model fuzz_baseline fuzz_journal fuzz_cli_values \
	fuzz_serve_request fuzz_merge
.PHONY: fuzz
fuzz: deps
	@command -v clang >/dev/null 2>&1 || { echo "make fuzz needs clang: apt-get install -y clang" >&2; exit 1; }
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DJOULES_FUZZ=ON -DJOULES_SANITIZE=address,undefined >/dev/null
	cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	scripts/fuzz build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

.PHONY: gpu-check
gpu-check: build
	BUILD=$(BUILD) scripts/gpu-check $(GPU_CHECK_FLAGS)

bench: build
	@for b in $(BUILD)/bin/bench_*; do [ -x "$$b" ] || continue; echo "== $$b"; "$$b" || exit 1; done
	@echo "== bench/bench_python.py (the Python binding against the C API)"
	@python3 bench/bench_python.py $(BUILD)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan build-fuzz
