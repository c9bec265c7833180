#!/usr/bin/env bash
# Generates the Python gRPC stubs of tend's V2 service (grpc_service_pb2.py, grpc_service_pb2_grpc.py,
# and model_config_pb2.py, which it imports) from proto/*.proto into OUT_DIR. The stubs are build output, never committed: the
# Python client test (test/server-grpc-python.test.ts) regenerates them into a temp dir each run.
# Usage: scripts/gen-grpc-python.sh OUT_DIR      (PYTHON=... to pick the interpreter)
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 1
fi
out_dir=$1
root=$(cd "$(dirname "$0")/.." && pwd)
# Debian's python3-grpcio / python3-grpc-tools live in the system interpreter; a pyenv or venv
# python3 earlier on PATH usually lacks them.
python=${PYTHON:-/usr/bin/python3}

if ! "$python" -c 'import grpc_tools.protoc' 2>/dev/null; then
  echo "error: $python cannot import grpc_tools — apt-get install python3-grpcio python3-grpc-tools (or set PYTHON)" >&2
  exit 1
fi
mkdir -p "$out_dir"
"$python" -m grpc_tools.protoc -I "$root/proto" --python_out="$out_dir" --grpc_python_out="$out_dir" \
  "$root/proto/grpc_service.proto" "$root/proto/model_config.proto"
