#!/usr/bin/env bash
# Install figures for README (Install): fresh clones of REPO at REF, timed `make` install targets,
# venv sizes, and what PyPI alone resolves (pip's configuration off). Writes to OUT (default /tmp/install).
#   scripts/measure_install.sh [REPO] [REF] [OUT]
set -u
repo=${1:-$(git rev-parse --show-toplevel)}
ref=${2:-HEAD}
out=${3:-/tmp/install}
mkdir -p "$out"
TIMEFORMAT='wall %R s, user %U s, sys %S s'

install() {  # name make-target
  rm -rf "$out/$1"
  git clone -q "$repo" "$out/$1" && git -C "$out/$1" checkout -q "$ref"
  echo "== make $2 on a fresh clone of $ref (load $(cut -d' ' -f1-3 /proc/loadavg))"
  { time make -C "$out/$1" "$2" > "$out/$1.log" 2>&1 ; } 2>&1
  echo "venv $(du -sm "$out/$1/.venv" | cut -f1) MiB, $("$out/$1/.venv/bin/python" -m pip list 2>/dev/null | tail -n +3 | wc -l) packages"
}

first_answer() {  # name: seconds from `make serve` to the first /variant-delta answer
  setsid make -C "$out/$1" serve PORT=8799 > "$out/$1-serve.log" 2>&1 &
  local pid=$! start=$SECONDS code=000
  for _ in $(seq 1 600); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST localhost:8799/variant-delta \
      -H 'content-type: application/json' -d '{"variant":"chr17:43119628:T:G"}') && [ "$code" = 200 ] && break
    sleep 0.2
  done
  echo "first /variant-delta answer: HTTP $code after $((SECONDS - start)) s"
  kill -- -"$pid" 2>/dev/null; wait "$pid" 2>/dev/null
}

public() {  # name pip-arguments...: what PyPI alone would install
  local name=$1; shift
  (
    export PIP_CONFIG_FILE=/dev/null; unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL
    "$out/dry/bin/python" -m pip install -q --dry-run --ignore-installed --report "$out/$name.json" \
      --index-url https://pypi.org/simple "$@" > "$out/$name.log" 2>&1
  )
  python3 - "$out/$name.json" <<'PY'
import json, sys
names = sorted(i["metadata"]["name"].lower() for i in json.load(open(sys.argv[1]))["install"])
cuda = [n for n in names if n.startswith(("nvidia", "cuda", "triton", "torch"))]
print(f"PyPI resolves {len(names)} packages; torch/nvidia/cuda/triton among them: {len(cuda)} {cuda}")
PY
}

install serve .venv/.installed-serve
first_answer serve
install test venv
rm -rf "$out/dry" && python3 -m venv "$out/dry"
echo "== pip install --dry-run -e '.[server]' (make serve), PyPI only"
public serve-pypi -e "$out/serve[server]"
echo "== pip install --dry-run torch==2.13.0 (what a plain torch pin gets from PyPI)"
public torch-pypi -c "$out/serve/constraints/cpu.txt" torch==2.13.0
