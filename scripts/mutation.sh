#!/usr/bin/env bash
# Mutation testing (mutmut 3) of the modules where a silent bug costs most, each against its own fast tests.
#
#   bash scripts/mutation.sh                      every module below
#   bash scripts/mutation.sh security discovery  just these
#   MUTATION_JOBS=1 bash scripts/mutation.sh     fewer parallel test processes (default 2)
#
# Each module runs in its own copy of the working tree under build/mutation/<module>/ (mutmut keeps its mutants/
# folder and results there), with a [tool.mutmut] section written for that module alone. Prints, per module, the
# mutants generated, killed (timeouts included), survived, equivalent (a codec name in another case, or listed in
# tests/MUTATION.md with the reason no test can tell it apart), wording (a message's text changed, nothing else) and
# unexplained, with each unexplained survivor's diff: kill it with a test, or explain it in tests/MUTATION.md.
# Exits 1 while any is unexplained. Not part of CI (minutes per module); see tests/MUTATION.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${MUTATION_JOBS:-2}
MUTMUT=$ROOT/.venv/bin/mutmut
if [ ! -x "$MUTMUT" ]; then
  echo "scripts/mutation.sh: $MUTMUT is missing: install the dev extra (bash scripts/setup.sh dev)" >&2
  exit 2
fi

# module | files to mutate | its tests
MODULES=(
  "security|ldl_backend/server/security.py|tests/server/test_security.py tests/server/test_security_fuzz.py"
  "request-parsing|ldl_backend/server/json_body.py ldl_backend/server/raw_image.py ldl_client/raw_image.py|tests/server/test_request_parsing.py tests/client/test_raw_header.py tests/client/test_values.py"
  "discovery|ldl_client/discovery.py|tests/client/test_discovery.py tests/client/test_discovery_file.py"
  "transport|ldl_client/transport.py|tests/client/test_client.py tests/client/test_reconnect.py tests/client/test_server_errors.py tests/client/test_transport_wire.py"
  "model-checks|ldl_backend/models/state_dict.py ldl_backend/models/formats/pth.py ldl_backend/models/formats/safetensors_file.py|tests/models/test_state_dict.py tests/models/test_model_file_errors.py tests/models/test_bad_files.py tests/models/test_state_dict_fuzz.py"
  "detection|ldl_backend/models/detection.py|tests/models/test_architectures.py tests/models/test_fast_load.py tests/models/test_round_trip.py tests/models/test_bad_files.py tests/models/test_detection_ranking.py"
  "image-headers|ldl_backend/imageio/png_chunks.py|tests/imageio/test_imageio_png_chunks.py tests/imageio/test_png_chunks_facts.py tests/imageio/test_imageio_bad_inputs.py tests/imageio/test_header_fuzz.py"
  "training-map-losses|ldl_backend/artifacts/training_map.py ldl_backend/training/losses.py|tests/artifacts/test_training_map.py tests/artifacts/test_training_map_edges.py tests/training/test_losses.py"
  "masks|ldl_backend/artifacts/masks.py|tests/artifacts/test_masks.py tests/artifacts/test_masks_edges.py"
  "blend|ldl_backend/artifacts/blend.py|tests/artifacts/test_blend.py tests/artifacts/test_blend_edges.py"
)

toml_list() {  # words → a TOML list of strings
  local out="" word
  for word in "$@"; do out+="${out:+, }\"$word\""; done
  echo "[$out]"
}

run_module() {
  local name=$1 files=$2 tests=$3 work=$ROOT/build/mutation/$1 existing=()
  local test
  for test in $tests; do [ -e "$test" ] && existing+=("$test"); done
  if [ ${#existing[@]} -eq 0 ]; then
    echo "$name: none of its tests exist ($tests)" >&2
    return 1
  fi
  rm -rf "$work"
  mkdir -p "$work"
  # The working tree as it is (tracked and new files, not ignored ones): what is tested is what is on disk.
  git ls-files -z --cached --others --exclude-standard --deduplicate |
    tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$work"
  # shellcheck disable=SC2086
  cat >>"$work/pyproject.toml" <<EOF

[tool.mutmut]
source_paths = ["ldl_backend", "ldl_client"]
only_mutate = $(toml_list $files)
pytest_add_cli_args_test_selection = $(toml_list "${existing[@]}")
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]
EOF
  local started=$SECONDS
  # One thread per test process: $JOBS processes share the cores instead of fighting over them, and a worker
  # forked from mutmut's process (which has run the tests) would hang in PyTorch's OpenMP pool if it had threads.
  (cd "$work" && OMP_NUM_THREADS=1 "$MUTMUT" run --max-children "$JOBS" >"$work/run.log" 2>&1) || {
    echo "$name: mutmut failed; the end of $work/run.log:" >&2
    tail -n 30 "$work/run.log" >&2
    return 1
  }
  (cd "$work" && "$ROOT/.venv/bin/python" "$ROOT/scripts/mutation_report.py" \
    "$name" "$MUTMUT" "$ROOT/tests/MUTATION.md" $((SECONDS - started)))
}

selected=("$@")
status=0
started=$SECONDS
for entry in "${MODULES[@]}"; do
  IFS='|' read -r name files tests <<<"$entry"
  if [ ${#selected[@]} -gt 0 ] && [[ " ${selected[*]} " != *" $name "* ]]; then
    continue
  fi
  run_module "$name" "$files" "$tests" || status=1
done
echo "total $((SECONDS - started)) s"
exit $status
