# make test: every test, unit and integration, against a real Samba AD DC that
# this Makefile installs (apt-get, as root), provisions and starts on 127.0.0.1,
# and stops again by PID whatever the tests did.
SHELL := /bin/bash
AD_DIR ?= $(CURDIR)/.ad
GO ?= go

.PHONY: build test unit ad-start ad-stop vet bench deploy-check report-check

build:
	$(GO) build -o bin/alm ./cmd/alm

vet:
	$(GO) vet ./...

# unit runs everything that needs no directory server (integration tests skip).
unit:
	$(GO) test ./...

# The tests that change what every other test relies on (the domain's
# Administrator account) run last, alone: ALM_TEST_AD_EXCLUSIVE=1. alm binds
# as a delegated account holding only docs/permissions.md's rights
# (ALM_TEST_AD_BIND=delegated); the tests' fixtures as the administrator.
test: vet deploy-check report-check
	scripts/ad/start.sh $(AD_DIR)
	set -o pipefail; export ALM_TEST_AD_ENV=$(AD_DIR)/ad.env ALM_TEST_AD_REQUIRED=1 ALM_TEST_AD_BIND=delegated; \
	  $(GO) test -count=1 ./... && \
	  ALM_TEST_AD_EXCLUSIVE=1 $(GO) test -count=1 -run '^TestExclusive' ./... ; \
	  rc=$$?; scripts/ad/stop.sh $(AD_DIR); exit $$rc

# deploy-check: goreleaser check on .goreleaser.yaml, then the checks of the
# Dockerfile and examples/deploy (go test ./examples/deploy/), with the tools
# that test uses installed where apt-get can (as root): systemd-analyze, and
# shellcheck for actionlint. A goreleaser that cannot be installed here is
# said so, and the Go test's structure checks of the file stand alone.
GORELEASER_VERSION ?= v2.15.1
deploy-check:
	@for tool in systemd-analyze:systemd shellcheck:shellcheck; do \
	  command -v $${tool%%:*} >/dev/null && continue; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -qq $${tool#*:} >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $${tool#*:} >/dev/null 2>&1; } || true; \
	  fi; \
	  command -v $${tool%%:*} >/dev/null || echo "deploy-check: $${tool%%:*} is not installed and could not be: go test says what it skips"; \
	done
	@if GOBIN=$(CURDIR)/bin $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION); then \
	  bin/goreleaser check; \
	else \
	  echo "deploy-check: goreleaser $(GORELEASER_VERSION) could not be installed here: .goreleaser.yaml is checked only by go test ./examples/deploy/ (TestGoreleaser)"; \
	fi
	$(GO) test -count=1 ./examples/deploy/

# report-check: the audit report opened in headless Chromium (Debian's package,
# installed with apt-get where missing and run as root): no console errors, no
# fetch, the expected rows on the page; its screenshot and PDF are left in
# reconciler/audit/report/testdata/artifacts/. Where Chromium is there the test
# must run (ALM_TEST_CHROMIUM_REQUIRED=1); where it cannot be installed this
# says so, and the test skips saying why.
report-check:
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && \
	    [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y -qq chromium >/dev/null 2>&1 || \
	  { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; } || true; \
	fi
	@if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then \
	  ALM_TEST_CHROMIUM_REQUIRED=1 $(GO) test -count=1 -run '^TestChromium' ./reconciler/audit/report/; \
	else \
	  echo "report-check: chromium is not installed and could not be: the report's browser tests skip"; \
	  $(GO) test -count=1 -run '^TestChromium' ./reconciler/audit/report/; \
	fi

ad-start:
	scripts/ad/start.sh $(AD_DIR)

ad-stop:
	scripts/ad/stop.sh $(AD_DIR)

# bench runs every Go benchmark, the directory ones against the Samba DC,
# then prints the scale table (scripts/benchtable): each figure, its floor
# from the same run, the ratio and the target. One package at a time (-p 1),
# so no benchmark shares the cores with another. About 12 minutes, and 7
# more the first time: the scale benchmarks make repositories of 100,000
# people, and a Samba DC of 10,000 accounts is loaded offline once and kept
# (scripts/ad/populate.sh).
bench:
	scripts/ad/start.sh $(AD_DIR)
	set -o pipefail; ALM_TEST_AD_ENV=$(AD_DIR)/ad.env \
	  $(GO) test -p 1 -run '^$$' -bench . -benchmem -timeout 90m ./... | $(GO) run ./scripts/benchtable; rc=$$?; scripts/ad/stop.sh $(AD_DIR); exit $$rc
