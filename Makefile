# The two commands of the README: `make up` and `make test`. Everything else is a helper of those.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= 2
AURI = ./$(BUILD)/auri

.PHONY: deps build up down status test test-fast test-asan bench-smoke clean

deps:
	@scripts/install-deps base

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# Installs what is missing, builds, starts PostgreSQL + Redis + the api-gateway, prints the URL.
up: build
	@$(AURI) up

down:
	@if [ -x $(AURI) ]; then $(AURI) down; else echo "nothing to stop (not built)"; fi

status:
	@$(AURI) status

# The whole suite: unit + integration tests, then the same under ASan+UBSan, then the benchmark
# smoke runs (so the scripts cannot rot; their numbers are not measurements).
test: test-fast test-asan bench-smoke

# AURI_REQUIRE_TELEGRAM_EMULATOR=1: the Telegram emulator test fails instead of skipping when
# scripts/install-deps could not install the emulator (see docs/decisions.md).
test-fast: build
	AURI_REQUIRE_TELEGRAM_EMULATOR=1 ctest --test-dir $(BUILD) --output-on-failure --timeout 1500

test-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	AURI_REQUIRE_TELEGRAM_EMULATOR=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure --timeout 2400

bench-smoke: build
	bench/http_health.sh --smoke
	bench/ingest.sh --smoke
	bench/e2e.sh --smoke
	bench/backup_restore.sh --smoke
	bench/api_read.sh --smoke

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
