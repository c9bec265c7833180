"""An independent KServe V2 gRPC client, written only against stubs generated from proto/grpc_service.proto.

It shares no code with tend: it checks that a stock Python gRPC stack (grpcio + protobuf) can talk
to tend's inference.GRPCInferenceService. test/server-grpc-python.test.ts runs it and compares what
it prints with what the Node gRPC client and the HTTP JSON path answer.

Usage: v2_client.py ADDRESS STUB_DIR < spec.json
  ADDRESS   host:port of the gRPC frontend
  STUB_DIR  where scripts/gen-grpc-python.sh wrote grpc_service_pb2*.py
  spec      {"cases": [{"model", "inputs": [{"name", "datatype", "shape", "raw_b64"}]}],
             "stream_count": 3, "unknown_model": "..."}
Prints one JSON object (see `main`); exits 0 unless the client itself breaks. Failed calls are
reported as {"code": <StatusCode name>, "details", "tend_error_code"}, never raised.
"""
import base64
import json
import struct
import sys

import grpc
from google.protobuf import __version__ as protobuf_version
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.internal import api_implementation

TIMEOUT_S = 20

# Little-endian struct codes and the typed contents field of each numeric V2 datatype.
DATATYPES = {
    "BOOL": ("?", "bool_contents"),
    "INT8": ("b", "int_contents"),
    "INT16": ("h", "int_contents"),
    "INT32": ("i", "int_contents"),
    "INT64": ("q", "int64_contents"),
    "UINT8": ("B", "uint_contents"),
    "UINT16": ("H", "uint_contents"),
    "UINT32": ("I", "uint_contents"),
    "UINT64": ("Q", "uint64_contents"),
    "FP32": ("f", "fp32_contents"),
    "FP64": ("d", "fp64_contents"),
}


def decode_elements(datatype, raw):
    """The elements of a raw little-endian tensor as Python numbers (floats keep their exact value)."""
    code = DATATYPES[datatype][0]
    size = struct.calcsize(code)
    if len(raw) % size != 0:
        raise ValueError(f"{len(raw)} bytes is not a whole number of {datatype} elements")
    return list(struct.unpack(f"<{len(raw) // size}{code}", raw))


def to_plain(message):
    """A message as JSON-ready dicts and lists, every field present (defaults too) but the unset members of
    a oneof, names as in the proto, enums by name."""
    out = {}
    for field in message.DESCRIPTOR.fields:
        oneof = field.containing_oneof
        if oneof is not None and message.WhichOneof(oneof.name) != field.name:
            continue
        value = getattr(message, field.name)
        if field.type == FieldDescriptor.TYPE_ENUM:
            name = lambda number: field.enum_type.values_by_number[number].name  # noqa: E731
            out[field.name] = [name(v) for v in value] if field.label == FieldDescriptor.LABEL_REPEATED else name(value)
            continue
        is_message = field.type == FieldDescriptor.TYPE_MESSAGE
        if is_message and field.message_type.GetOptions().map_entry:
            value_is_message = field.message_type.fields_by_name["value"].type == FieldDescriptor.TYPE_MESSAGE
            out[field.name] = {k: to_plain(v) if value_is_message else v for k, v in value.items()}
        elif field.label == FieldDescriptor.LABEL_REPEATED:
            out[field.name] = [to_plain(v) if is_message else plain_scalar(v) for v in value]
        elif is_message:
            out[field.name] = to_plain(value)
        else:
            out[field.name] = plain_scalar(value)
    return out


def plain_scalar(value):
    return base64.b64encode(value).decode() if isinstance(value, bytes) else value


def rpc_failure(err):
    tend_code = next((v for k, v in (err.trailing_metadata() or ()) if k == "tend-error-code"), None)
    return {"code": err.code().name, "details": err.details(), "tend_error_code": tend_code}


def attempt(call):
    """{"ok": result} or {"error": status} for one call."""
    try:
        return {"ok": call()}
    except grpc.RpcError as err:
        return {"error": rpc_failure(err)}


class V2Client:
    def __init__(self, pb2, stub):
        self.pb2 = pb2
        self.stub = stub

    def infer_request(self, case, typed, request_id=""):
        """A ModelInferRequest carrying the case's tensors as raw_input_contents or as typed contents."""
        request = self.pb2.ModelInferRequest(model_name=case["model"], id=request_id)
        for spec in case["inputs"]:
            tensor = request.inputs.add(name=spec["name"], datatype=spec["datatype"], shape=spec["shape"])
            raw = base64.b64decode(spec["raw_b64"])
            if typed:
                field = DATATYPES[spec["datatype"]][1]
                getattr(tensor.contents, field).extend(decode_elements(spec["datatype"], raw))
            else:
                request.raw_input_contents.append(raw)
        return request

    @staticmethod
    def infer_result(response):
        """Output tensors with their raw bytes (base64) and their decoded elements."""
        outputs = []
        for tensor, raw in zip(response.outputs, response.raw_output_contents):
            data = decode_elements(tensor.datatype, raw) if tensor.datatype in DATATYPES else None
            outputs.append(
                {
                    "name": tensor.name,
                    "datatype": tensor.datatype,
                    "shape": list(tensor.shape),
                    "raw_b64": base64.b64encode(raw).decode(),
                    "data": data,
                }
            )
        return {
            "model_name": response.model_name,
            "model_version": response.model_version,
            "id": response.id,
            "raw_output_count": len(response.raw_output_contents),
            "outputs": outputs,
        }

    def infer(self, request):
        return self.infer_result(self.stub.ModelInfer(request, timeout=TIMEOUT_S))

    def stream(self, requests):
        """Every request on one ModelStreamInfer stream; the answers in arrival order."""
        answers = []
        for answer in self.stub.ModelStreamInfer(iter(requests), timeout=TIMEOUT_S):
            answers.append(
                {
                    "error_message": answer.error_message,
                    "id": answer.infer_response.id,
                    "response": self.infer_result(answer.infer_response) if answer.error_message == "" else None,
                }
            )
        return answers


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: v2_client.py ADDRESS STUB_DIR < spec.json")
    address, stub_dir = sys.argv[1], sys.argv[2]
    spec = json.load(sys.stdin)
    sys.path.insert(0, stub_dir)
    import grpc_service_pb2 as pb2  # noqa: E402 (generated at test time into STUB_DIR)
    import grpc_service_pb2_grpc as pb2_grpc  # noqa: E402

    channel = grpc.insecure_channel(address)
    grpc.channel_ready_future(channel).result(timeout=TIMEOUT_S)
    stub = pb2_grpc.GRPCInferenceServiceStub(channel)
    client = V2Client(pb2, stub)
    cases = spec["cases"]
    first = cases[0]

    result = {
        "versions": {
            "python": sys.version.split()[0],
            "grpcio": grpc.__version__,
            "protobuf": protobuf_version,
            "protobuf_implementation": api_implementation.Type(),
        },
        "server_live": to_plain(stub.ServerLive(pb2.ServerLiveRequest(), timeout=TIMEOUT_S)),
        "server_ready": to_plain(stub.ServerReady(pb2.ServerReadyRequest(), timeout=TIMEOUT_S)),
        "server_metadata": to_plain(stub.ServerMetadata(pb2.ServerMetadataRequest(), timeout=TIMEOUT_S)),
        "models": {},
    }
    for case in cases:
        name = case["model"]
        result["models"][name] = {
            "metadata": attempt(lambda: to_plain(stub.ModelMetadata(pb2.ModelMetadataRequest(name=name), timeout=TIMEOUT_S))),
            "config": attempt(lambda: to_plain(stub.ModelConfig(pb2.ModelConfigRequest(name=name), timeout=TIMEOUT_S).config)),
            "ready": attempt(lambda: to_plain(stub.ModelReady(pb2.ModelReadyRequest(name=name, version="1"), timeout=TIMEOUT_S))),
            "raw": attempt(lambda: client.infer(client.infer_request(case, typed=False))),
            "typed": attempt(lambda: client.infer(client.infer_request(case, typed=True))),
        }

    # A truncated tensor in the middle of the stream: it answers with error_message, the rest succeed.
    stream_requests = [client.infer_request(first, typed=False, request_id=f"s{i}") for i in range(spec["stream_count"])]
    bad_stream = client.infer_request(first, typed=False, request_id="s_bad")
    bad_stream.raw_input_contents[0] = bad_stream.raw_input_contents[0][:3]
    stream_requests.insert(1, bad_stream)
    result["stream"] = attempt(lambda: client.stream(stream_requests))

    wrong_size = client.infer_request(first, typed=False)
    wrong_size.raw_input_contents[0] = wrong_size.raw_input_contents[0][:-4]
    unknown = client.infer_request(first, typed=False)
    unknown.model_name = spec["unknown_model"]
    result["bad"] = {
        "wrong_size": attempt(lambda: client.infer(wrong_size)),
        "wrong_size_bytes": len(wrong_size.raw_input_contents[0]),
        "unknown_model": attempt(lambda: client.infer(unknown)),
        "unknown_model_metadata": attempt(lambda: to_plain(stub.ModelMetadata(pb2.ModelMetadataRequest(name=spec["unknown_model"]), timeout=TIMEOUT_S))),
    }
    result["after_bad"] = attempt(lambda: client.infer(client.infer_request(first, typed=False)))

    result["statistics"] = attempt(lambda: to_plain(stub.ModelStatistics(pb2.ModelStatisticsRequest(name=first["model"]), timeout=TIMEOUT_S)))
    result["repository_index"] = attempt(lambda: to_plain(stub.RepositoryIndex(pb2.RepositoryIndexRequest(ready=True), timeout=TIMEOUT_S)))
    channel.close()
    # allow_nan=False: a NaN output must fail here, not turn into JSON that Node cannot parse.
    json.dump(result, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
