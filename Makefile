# Common tasks. The README's two commands are `go run ./cmd/agentidp serve` and
# `bash .ci/test.sh`; these targets wrap them and a few more.
.PHONY: run test unit bench fuzz lint build dashboard

run:
	go run ./cmd/agentidp serve

test:
	bash .ci/test.sh

unit:
	go test -race -count=1 ./...
	cd client && go test -race -count=1 ./...

bench:
	go run ./cmd/agentidp-bench

# Every fuzz target, FUZZTIME each (CI runs them for 20s; e.g. make fuzz FUZZTIME=10m).
FUZZTIME ?= 2m
fuzz:
	FUZZTIME=$(FUZZTIME) bash .ci/fuzz.sh

lint:
	gofmt -l . | tee /dev/stderr | (! read)
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	cd client && go vet ./... && go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

build:
	go build -o bin/agentidp ./cmd/agentidp

dashboard:
	cd dashboard && npm ci && npm run build
