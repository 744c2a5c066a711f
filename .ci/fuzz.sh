#!/usr/bin/env bash
# Runs every Go fuzz target (func FuzzX(f *testing.F) in a *_test.go file) of the server's
# module and of the other Go modules in this repository, each for FUZZTIME (default 20s):
# CI runs it bounded; `make fuzz FUZZTIME=10m` runs it longer. The seed corpora already run
# as ordinary tests under `go test`; this adds generated inputs. A failing input is written
# to the package's testdata/fuzz/ by `go test` and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-20s}"

# module_dir package_dir target, one line per target, for every go.mod in the repository.
# Packages come from `go list ./...` in each module, so a module never claims the packages
# of a module nested inside it (client/, deploy/).
targets() {
  while IFS= read -r mod; do
    local dir; dir=$(dirname "$mod")
    (cd "$dir" && go list -f '{{.Dir}}' ./...) | while IFS= read -r pkgdir; do
      for file in "$pkgdir"/*_test.go; do
        [ -f "$file" ] || continue
        { grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" || true; } | sed 's/^func //' |
          while IFS= read -r name; do echo "$dir ./$(realpath --relative-to="$dir" "$pkgdir") $name"; done
      done
    done
  done < <(find . -name go.mod -not -path '*/node_modules/*' | sort)
}

if [ "${FUZZ_LIST:-}" = 1 ]; then targets; exit 0; fi  # list the targets only

# fuzz_one runs one target. Go's fuzzing engine sometimes ends a run that found nothing with
# "context deadline exceeded" when its time is up while a worker is busy (seen under load, no
# failing input written); such a run is repeated once. A real finding writes its input to
# testdata/fuzz and fails at once.
fuzz_one() {
  local dir=$1 pkg=$2 name=$3 out
  for attempt in 1 2; do
    if out=$(cd "$dir" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" 2>&1); then
      echo "$out" | tail -3
      return 0
    fi
    echo "$out"
    if [ "$attempt" = 1 ] && grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
      echo "== fuzz $name: the engine's deadline flake, no failing input; running it again"
      continue
    fi
    return 1
  done
}

n=0
while read -r dir pkg name; do
  echo "== fuzz $name ($dir/$pkg, $fuzztime)"
  fuzz_one "$dir" "$pkg" "$name"
  n=$((n + 1))
done < <(targets)
[ "$n" -gt 0 ] || { echo "fuzz: no fuzz target found: the search is broken" >&2; exit 1; }
echo "== fuzz: $n targets, $fuzztime each"
