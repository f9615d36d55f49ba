# zbsync — every job a person runs is a target here.
SHELL := /bin/bash
PREFIX ?= /usr/local
SWIFT ?= swift
SWIFT_BUILD_FLAGS ?=
DEBIAN_PACKAGES := libsqlite3-dev libssl-dev python3 lighttpd
# The fault suites (`make fault`), and the ones that must report injected faults (scripts/fault-report.sh).
FAULT_FILTER := EngineReliabilityTests|SandboxBadReplyTests|SandboxZohoTokenTests|SandboxZohoLimiterTests|SandboxCrash|SandboxSync|FaultSuites|RunLockTests
FAULT_SUITES := EngineReliabilityTests EngineReliabilityTests.seededSchedules FaultLostReplyTests FaultCrashTrialTests FaultLimitTests FaultSecretsTests FaultBadInputTests

.PHONY: deps build release test unit sandbox-test install demo bench fault sandbox-start sandbox-stop clean

## deps: install the Debian packages the project needs, only those that are missing
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	else echo "All Debian packages present:$(foreach p,$(DEBIAN_PACKAGES), $(p))"; fi
	@command -v $(SWIFT) >/dev/null || { echo "swift is not on PATH: install Swift 6 from swift.org"; exit 1; }

## build: debug build of everything
build:
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

## release: optimised binary
release:
	$(SWIFT) build -c release --product zbsync $(SWIFT_BUILD_FLAGS)

## test: the whole suite (Swift unit, in-process and end-to-end tests, plus the sandbox's own tests)
test: deps
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)
	@tally=$$(mktemp); trap 'rm -f "$$tally"' EXIT; set -x; \
	ZBSYNC_FAULT_TALLY="$$tally" $(SWIFT) test --skip-build --parallel $(SWIFT_BUILD_FLAGS) && \
	{ set +x; ./scripts/fault-report.sh "$$tally" $(FAULT_SUITES); }
	python3 -m unittest discover -s sandbox -p 'test_*.py'

## install: copy the release binary to $(PREFIX)/bin
install: release
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/zbsync" "$(DESTDIR)$(PREFIX)/bin/zbsync"
	install -d "$(DESTDIR)$(PREFIX)/share/zbsync" "$(DESTDIR)$(PREFIX)/lib/zbsync"
	install -m 0644 packaging/*.service packaging/*.timer packaging/*.socket packaging/*.conf packaging/crontab.example "$(DESTDIR)$(PREFIX)/share/zbsync/"
	sed 's|/usr/local/bin/zbsync|$(PREFIX)/bin/zbsync|' packaging/zbsync-webhook.cgi > "$(DESTDIR)$(PREFIX)/lib/zbsync/zbsync-webhook.cgi"
	chmod 0755 "$(DESTDIR)$(PREFIX)/lib/zbsync/zbsync-webhook.cgi"
	@echo "Installed $(DESTDIR)$(PREFIX)/bin/zbsync, examples in $(DESTDIR)$(PREFIX)/share/zbsync, webhook wrapper in $(DESTDIR)$(PREFIX)/lib/zbsync"

## demo: build, start the sandbox with a seeded store, sync into it as a user would, show the result
demo: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)
	./scripts/demo.sh "$$($(SWIFT) build --show-bin-path)/zbsync"

## bench: Zoho calls per order, backfill throughput, planning time and memory; writes docs/BENCHMARKS.md
bench: deps
	./scripts/bench.sh

## fault: the crash, lost-reply, rate-limit, token, overlap, bad-input and secrets tests (also part of make test);
## prints how many faults were really injected, per kind, and fails if a fault suite injected none
fault: deps
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)
	@tally=$$(mktemp); trap 'rm -f "$$tally"' EXIT; set -x; \
	ZBSYNC_FAULT_TALLY="$$tally" $(SWIFT) test --skip-build $(SWIFT_BUILD_FLAGS) --filter '$(FAULT_FILTER)' && \
	{ set +x; ./scripts/fault-report.sh "$$tally" $(FAULT_SUITES); }

clean:
	rm -rf .build .build-*
