# make test: every test, unit and integration, against a real Samba AD DC that
# this Makefile installs (apt-get, as root), provisions and starts on 127.0.0.1,
# and stops again by PID whatever the tests did.
SHELL := /bin/bash
AD_DIR ?= $(CURDIR)/.ad
GO ?= go

.PHONY: build test unit ad-start ad-stop vet bench

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
test: vet
	scripts/ad/start.sh $(AD_DIR)
	set -o pipefail; export ALM_TEST_AD_ENV=$(AD_DIR)/ad.env ALM_TEST_AD_REQUIRED=1 ALM_TEST_AD_BIND=delegated; \
	  $(GO) test -count=1 ./... && \
	  ALM_TEST_AD_EXCLUSIVE=1 $(GO) test -count=1 -run '^TestExclusive' ./... ; \
	  rc=$$?; scripts/ad/stop.sh $(AD_DIR); exit $$rc

ad-start:
	scripts/ad/start.sh $(AD_DIR)

ad-stop:
	scripts/ad/stop.sh $(AD_DIR)

# bench runs every Go benchmark, the directory ones against the Samba DC.
bench:
	scripts/ad/start.sh $(AD_DIR)
	set -o pipefail; ALM_TEST_AD_ENV=$(AD_DIR)/ad.env \
	  $(GO) test -run '^$$' -bench . -benchmem ./... ; rc=$$?; scripts/ad/stop.sh $(AD_DIR); exit $$rc
