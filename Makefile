# Common tasks. The README's two commands are `go run ./cmd/agentidp serve` and
# `bash .ci/test.sh`; these targets wrap them and a few more.
.PHONY: run test unit bench lint build dashboard fuzz

run:
	go run ./cmd/agentidp serve

test:
	bash .ci/test.sh

unit:
	go test -race -count=1 ./...

# The fuzz targets for a longer time than CI gives them (FUZZTIME=10m make fuzz).
fuzz:
	go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $${FUZZTIME:-2m} ./platform/dpop/

bench:
	go run ./cmd/agentidp-bench

lint:
	gofmt -l . | tee /dev/stderr | (! read)
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

build:
	go build -o bin/agentidp ./cmd/agentidp

dashboard:
	cd dashboard && npm ci && npm run build
